import DataPlane
import Testing

func ip(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 {
  a << 24 | b << 16 | c << 8 | d
}

@Suite struct RouteSnapshotTests {
  static let table = RouteSnapshot([
    Route(network: ip(10, 1, 2, 0), prefixLength: 24, nextHop: ip(192, 168, 90, 2), port: 7890),
    Route(network: ip(10, 1, 3, 0), prefixLength: 24, nextHop: ip(192, 168, 90, 3), port: 7890),
    Route(network: ip(10, 1, 3, 128), prefixLength: 25, nextHop: ip(192, 168, 90, 4), port: 7890),
    Route(network: ip(10, 1, 3, 7), prefixLength: 32, nextHop: ip(192, 168, 90, 5), port: 7891),
    Route(network: ip(10, 0, 0, 0), prefixLength: 8, nextHop: ip(192, 168, 90, 9), port: 8285),
    Route(network: ip(172, 16, 5, 0), prefixLength: 24, nextHop: ip(192, 168, 90, 6), port: 7890),
  ])

  @Test(arguments: [
    (ip(10, 1, 2, 77), ip(192, 168, 90, 2)),
    (ip(10, 1, 3, 1), ip(192, 168, 90, 3)),
    (ip(10, 1, 3, 200), ip(192, 168, 90, 4)),
    (ip(10, 1, 3, 7), ip(192, 168, 90, 5)),
    (ip(10, 1, 4, 1), ip(192, 168, 90, 9)),
    (ip(10, 200, 4, 1), ip(192, 168, 90, 9)),
    (ip(172, 16, 5, 9), ip(192, 168, 90, 6)),
  ])
  func longestPrefixWins(destination: UInt32, nextHop: UInt32) {
    #expect(Self.table.route(for: destination)?.nextHop == nextHop)
    let address = Self.table.nextHop(for: destination)!
    #expect(UInt32(bigEndian: address.sin_addr.s_addr) == nextHop)
  }

  @Test(arguments: [ip(11, 1, 2, 3), ip(172, 16, 6, 1), ip(0, 0, 0, 0)])
  func noRoute(destination: UInt32) {
    #expect(Self.table.route(for: destination) == nil)
    #expect(Self.table.nextHop(for: destination) == nil)
  }

  @Test func socketAddressIsReadyToSend() {
    let address = Self.table.nextHop(for: ip(10, 1, 3, 7))!
    #expect(address.sin_family == 2)
    #expect(UInt16(bigEndian: address.sin_port) == 7891)
  }

  /// Address only: a peer with several workers sends from its shared port and from
  /// ephemeral ones. Neighbours of known addresses (±1, and the one whose key would sort
  /// right after 192.168.90.9's) are unknown.
  @Test(arguments: [
    (ip(192, 168, 90, 2), 7890 as UInt16, true),
    (ip(192, 168, 90, 5), 7891, true),
    (ip(192, 168, 90, 5), 7890, true),
    (ip(192, 168, 90, 2), 7891, true),
    (ip(192, 168, 90, 2), 40123, true),
    (ip(192, 168, 90, 9), 0, true),
    (ip(192, 168, 90, 9), 65535, true),
    (ip(192, 168, 90, 7), 7890, false),
    (ip(192, 168, 90, 1), 7890, false),
    (ip(192, 168, 90, 10), 0, false),
    (ip(192, 168, 90, 0), 65535, false),
    (ip(0, 0, 0, 0), 0, false),
    (UInt32.max, UInt16.max, false),
  ])
  func knownSources(address: UInt32, port: UInt16, known: Bool) {
    #expect(Self.table.isKnownSource(address: address) == known)
  }

  @Test func duplicateNetworkKeepsTheLastNextHop() {
    let table = RouteSnapshot([
      Route(network: ip(10, 1, 2, 0), prefixLength: 24, nextHop: ip(1, 1, 1, 1), port: 1),
      Route(network: ip(10, 1, 2, 9), prefixLength: 24, nextHop: ip(2, 2, 2, 2), port: 2),
    ])
    #expect(table.routes.count == 1)
    #expect(table.route(for: ip(10, 1, 2, 1))?.nextHop == ip(2, 2, 2, 2))
    #expect(!table.isKnownSource(address: ip(1, 1, 1, 1)))
    #expect(table.isKnownSource(address: ip(2, 2, 2, 2)))
  }

  /// The fast /24 table and the scan must agree for every address of the /16 and around it.
  @Test func fastPathAgreesWithLinearScan() {
    var rng = SplitMix64(state: 3)
    var routes: [Route] = []
    for _ in 0..<200 {
      let prefix = [8, 16, 20, 24, 24, 24, 25, 28, 32].randomElement(using: &rng)!
      let base = ip(10, 1, 0, 0) | UInt32.random(in: 0...0xffff, using: &rng)
      routes.append(Route(network: base, prefixLength: prefix, nextHop: base, port: 1))
    }
    let table = RouteSnapshot(routes)
    for low in stride(from: UInt32(0), to: 0x1_0000, by: 7) {
      let destination = ip(10, 1, 0, 0) | low
      let expected = table.routes.first { destination & mask($0.prefixLength) == $0.network }
      #expect(table.route(for: destination) == expected)
    }
  }

  @Test func tupleInitializer() {
    let table = RouteSnapshot(entries: [
      (network: ip(10, 1, 2, 0), prefix: 24, nextHop: ip(192, 168, 90, 2), port: 7890)
    ])
    #expect(table.route(for: ip(10, 1, 2, 1))?.port == 7890)
  }

  @Test func emptyTableRoutesNothing() {
    #expect(RouteSnapshot.empty.route(for: ip(10, 1, 2, 3)) == nil)
    #expect(!RouteSnapshot.empty.isKnownSource(address: 0))
  }
}

func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }
