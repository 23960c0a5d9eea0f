import Glibc
import Testing

@testable import DataPlane

/// The IPv6 half of a route snapshot: lease IPv6 subnets → PublicIP:port, longest prefix.
@Suite struct IPv6RouteTableTests {
  static func route(_ high: UInt64, _ low: UInt64 = 0, _ prefix: Int = 64, via hop: UInt32)
    -> IPv6ForwardingRoute
  {
    IPv6ForwardingRoute(high: high, low: low, prefixLength: prefix, nextHop: hop, port: 7890)
  }

  @Test func eachLeaseSubnetLeadsToItsPeer() throws {
    let routes = (1...300).map {
      Self.route(0xfd10_0000_0000_0000 | UInt64($0), via: 0xc0a8_0000 | UInt32($0))
    }
    let table = IPv6RouteTable(routes.shuffled())
    for n in [1, 2, 150, 300] {
      let i = table.index(high: 0xfd10_0000_0000_0000 | UInt64(n), low: 0x1234_5678)
      #expect(i >= 0)
      #expect(table.nextHopAddress(at: i) == 0xc0a8_0000 | UInt32(n))
      let address = table.nextHop(at: i).pointee.ipv4Address
      #expect(UInt32(bigEndian: address.sin_addr.s_addr) == 0xc0a8_0000 | UInt32(n))
      #expect(UInt16(bigEndian: address.sin_port) == 7890)
    }
    #expect(table.index(high: 0xfd10_0000_0000_0000, low: 1) == -1, "subnet 0 has no lease")
    #expect(table.index(high: 0xfd10_0000_0000_012d, low: 1) == -1)
    #expect(table.index(high: 0xfd11_0000_0000_0001, low: 1) == -1)
  }

  @Test func longestPrefixWinsAcrossGroups() throws {
    let table = IPv6RouteTable([
      Self.route(0xfd10_0000_0000_0000, 0, 48, via: 1),
      Self.route(0xfd10_0000_0000_0002, 0, 64, via: 2),
      Self.route(0xfd10_0000_0000_0002, 0x8000_0000_0000_0000, 65, via: 3),
      Self.route(0xfd10_0000_0000_0002, 5, 128, via: 4),
    ])
    func hop(_ high: UInt64, _ low: UInt64) -> UInt32? {
      table.route(high: high, low: low)?.nextHop
    }
    #expect(hop(0xfd10_0000_0000_0007, 1) == 1)
    #expect(hop(0xfd10_0000_0000_0002, 1) == 2)
    #expect(hop(0xfd10_0000_0000_0002, 0x8000_0000_0000_0001) == 3)
    #expect(hop(0xfd10_0000_0000_0002, 5) == 4)
    #expect(hop(0xfd10_0001_0000_0002, 5) == nil)
  }

  @Test func hostBitsAreClearedAndTheLastDuplicateWins() {
    let table = IPv6RouteTable([
      Self.route(0xfd10_0000_0000_0002, 0xffff, via: 1),
      Self.route(0xfd10_0000_0000_0002, 0, via: 2),
      Self.route(0xfd10_0000_0000_0003, 0, 129, via: 9),
    ])
    #expect(table.routes.count == 1)
    #expect(table.routes.first?.low == 0)
    #expect(table.route(high: 0xfd10_0000_0000_0002, low: 7)?.nextHop == 2)
  }

  @Test func aSourceBelongsToThePeerWhoseSubnetHoldsIt() {
    let table = IPv6RouteTable([
      Self.route(0xfd10_0000_0000_0001, via: 0xc0a8_5a01),
      Self.route(0xfd10_0000_0000_0002, via: 0xc0a8_5a02),
    ])
    #expect(table.isSource(high: 0xfd10_0000_0000_0002, low: 5, of: 0xc0a8_5a02))
    #expect(!table.isSource(high: 0xfd10_0000_0000_0001, low: 5, of: 0xc0a8_5a02))
    #expect(!table.isSource(high: 0xfd10_0000_0000_0003, low: 5, of: 0xc0a8_5a02))
    #expect(!IPv6RouteTable.empty.isSource(high: 0, low: 0, of: 0))
  }

  @Test func aSnapshotCarriesItsIPv6Table() {
    let ipv6 = IPv6RouteTable([Self.route(0xfd10_0000_0000_0002, via: 7)])
    let snapshot = RouteSnapshot([], ipv6: ipv6)
    #expect(snapshot.ipv6 === ipv6)
    #expect(RouteSnapshot.empty.ipv6.isEmpty)
  }
}

/// IPv6 next hops (an IPv6-only network's routes).
@Suite struct IPv6UnderlayRouteTests {
  static let peerA = UnderlayAddress.ipv6(high: 0xfd00_0077_0000_0000, low: 0x12)
  static let peerB = UnderlayAddress.ipv6(high: 0xfd00_0077_0000_0000, low: 0x13)
  static func route(_ subnet: UInt64, via peer: UnderlayAddress) -> IPv6ForwardingRoute {
    IPv6ForwardingRoute(high: subnet, low: 0, prefixLength: 64, underlay: peer, port: 7890)
  }
  static let table = IPv6RouteTable([
    route(0xfd10_0000_0000_0002, via: peerA), route(0xfd10_0000_0000_0003, via: peerB),
    route(0xfd10_0000_0000_0004, via: peerA),
  ])

  @Test func nextHopsAreReadySockaddrIn6WithOneKeyPerPeer() {
    let i2 = Self.table.index(high: 0xfd10_0000_0000_0002, low: 1)
    let i3 = Self.table.index(high: 0xfd10_0000_0000_0003, low: 1)
    let i4 = Self.table.index(high: 0xfd10_0000_0000_0004, low: 1)
    let hop = Self.table.nextHop(at: i2).pointee
    #expect(Int32(hop.address.sin6_family) == AF_INET6)
    let parts = socketAddress6Parts(hop.address)
    #expect(parts.high == 0xfd00_0077_0000_0000 && parts.low == 0x12 && parts.port == 7890)
    #expect(hop.key == Self.table.nextHop(at: i4).pointee.key, "one peer: one run key")
    #expect(hop.key != Self.table.nextHop(at: i3).pointee.key)
    #expect(hop.key >> 63 == 1, "never an IPv4 key")
    #expect(Self.table.nextHopAddress(at: i2) == 0)
  }

  @Test func knownSendersAreThePublicIPv6es() {
    #expect(Self.table.isKnownUnderlaySource(high: 0xfd00_0077_0000_0000, low: 0x12))
    #expect(Self.table.isKnownUnderlaySource(high: 0xfd00_0077_0000_0000, low: 0x13))
    #expect(!Self.table.isKnownUnderlaySource(high: 0xfd00_0077_0000_0000, low: 0x14))
    #expect(!Self.table.isKnownUnderlaySource(high: 0, low: 0x12))
    #expect(!IPv6RouteTable.empty.isKnownUnderlaySource(high: 0, low: 0))
  }

  @Test func anInnerSourceMustLieInTheSendersSubnet() {
    #expect(
      Self.table.isSource(
        high: 0xfd10_0000_0000_0003, low: 9, ofHigh: 0xfd00_0077_0000_0000, ofLow: 0x13))
    #expect(
      !Self.table.isSource(
        high: 0xfd10_0000_0000_0003, low: 9, ofHigh: 0xfd00_0077_0000_0000, ofLow: 0x12))
    // An IPv4 sender of the same low bits is no IPv6 one.
    #expect(!Self.table.isSource(high: 0xfd10_0000_0000_0003, low: 9, of: 0x13))
  }
}
