import FlannelCore
import Netlink
import Testing

@testable import Backends

/// The pure parts of vxlan's IPv6 half: a lease's IPv6 peer, the IPv6 device's MTU, the
/// device comparison with an IPv6 local address, and a lease change split by family.
@Suite struct VXLANIPv6PeerTests {
  static func lease(
    v6: String? = "fd10:0:0:16::/64", ip6: String? = "fd00:100::2",
    data6: JSONValue? = .object([
      JSONMember("VNI", .int(1)), JSONMember("VtepMAC", .string("0e:00:00:00:06:16")),
    ])
  ) -> Lease {
    Lease(
      subnet: IPv4Network("10.1.16.0/24")!, ipv6Subnet: v6.flatMap(IPv6Network.init),
      attrs: LeaseAttrs(
        publicIP: IPv4Address("192.168.100.2")!, backendType: "vxlan",
        backendData: .object([JSONMember("VtepMAC", .string("0e:00:00:00:00:16"))]),
        publicIPv6: ip6.flatMap(IPv6Address.init), backendV6Data: data6),
      expiration: nil)
  }

  @Test func ipv6PeerComesFromTheIPv6SubnetPublicIPv6AndBackendV6Data() throws {
    let peer = try #require(VXLANPeer<VXLANIPv6>(ipv6Of: Self.lease()))
    #expect(peer.subnet == IPv6Network("fd10:0:0:16::/64"))
    #expect(peer.publicIP == IPv6Address("fd00:100::2"))
    #expect(peer.vtepMAC == MACAddress("0e:00:00:00:06:16"))
    #expect(peer.gatewayAddress == IPv6Address("fd10:0:0:16::"))
    #expect(peer.nexthopID == nil)
    // The IPv4 peer reads BackendData, never BackendV6Data.
    #expect(VXLANPeer<VXLANIPv4>(Self.lease())?.vtepMAC == MACAddress("0e:00:00:00:00:16"))
  }

  /// Member names match case-insensitively (Go's JSON decoding); anything missing or
  /// unusable leaves the lease IPv4-only.
  @Test(arguments: [
    (lease(data6: .object([JSONMember("vtepmac", .string("0e:00:00:00:06:16"))])), true),
    (lease(v6: nil), false),
    (lease(ip6: nil), false),
    (lease(data6: nil), false),
    (lease(data6: .object([JSONMember("VNI", .int(1))])), false),
    (lease(data6: .object([JSONMember("VtepMAC", .string("not a mac"))])), false),
    (lease(data6: .object([JSONMember("VtepMAC", .int(5))])), false),
    (lease(data6: .string("0e:00:00:00:06:16")), false),
  ])
  func unusableIPv6DataMakesNoPeer(lease: Lease, usable: Bool) {
    #expect((VXLANPeer<VXLANIPv6>(ipv6Of: lease) != nil) == usable)
  }

  @Test func entriesAreStocksLayout() throws {
    var peer = try #require(VXLANPeer<VXLANIPv6>(ipv6Of: Self.lease()))
    let g = IPv6Address("fd10:0:0:16::")!
    #expect(
      peer.route(device: 7)
        == IPv6Route(
          destination: IPv6Network("fd10:0:0:16::/64")!, gateway: g, outputIndex: 7, onlink: true))
    #expect(peer.neighbour(device: 7) == IPv6Neighbour(linkIndex: 7, ip: g, mac: peer.vtepMAC))
    #expect(
      peer.fdb(device: 7)
        == IPv6FDBEntry(linkIndex: 7, mac: peer.vtepMAC, destination: IPv6Address("fd00:100::2")))
    peer.direct = true
    #expect(
      peer.route(device: 7)
        == IPv6Route(
          destination: IPv6Network("fd10:0:0:16::/64")!, gateway: IPv6Address("fd00:100::2")))
  }

  /// Stock asks for (MTU or the external MTU) − 50 on both devices; the kernel clamps the
  /// IPv6 one to the external MTU − 70.
  @Test(arguments: [
    (nil as Int?, 1500, 1450, 1430), (1400, 1500, 1350, 1350), (1470, 1500, 1420, 1420),
    (1490, 1500, 1440, 1430), (nil, 9000, 8950, 8930),
  ])
  func deviceMTUs(configured: Int?, external: Int, ipv4: Int, ipv6: Int) {
    let options = VXLANOptions(mtu: configured)
    #expect(options.deviceMTU(externalMTU: external) == ipv4)
    #expect(options.ipv6DeviceMTU(externalMTU: external) == ipv6)
    #expect(options.ipv6DeviceName == "flannel-v6.1")
  }

  @Test func anIPv6DeviceIsComparedByItsLocal6() {
    func attributes(_ local6: String?) -> VXLANAttributes {
      VXLANAttributes(
        vni: 1, local: nil, local6: local6.flatMap(IPv6Address.init), port: 8472, linkIndex: 2,
        learning: false, gbp: false)
    }
    func link(_ local6: String?) -> Link {
      Link(
        index: 9, name: "flannel-v6.1", kind: "vxlan", mtu: 1430, isUp: true, mac: nil,
        vxlan: attributes(local6))
    }
    #expect(vxlanIncompatibility(existing: link("fd00::1"), wanted: attributes("fd00::1")) == nil)
    #expect(
      vxlanIncompatibility(existing: link("fd00::1"), wanted: attributes("fd00::2"))
        == "local fd00::1 instead of fd00::2")
    // Unset on one side: not compared, as stock does not.
    #expect(vxlanIncompatibility(existing: link(nil), wanted: attributes("fd00::2")) == nil)
  }

  @Test func aLeaseChangeSplitsIntoItsFamilies() throws {
    let v4 = try #require(VXLANPeer<VXLANIPv4>(Self.lease()))
    let v6 = try #require(VXLANPeer<VXLANIPv6>(ipv6Of: Self.lease()))
    var index = PeerIndex<LeaseSubnets, VXLANLeasePeers>()
    let added = try #require(
      index.apply(.added(Self.lease())) { _ in VXLANLeasePeers(ipv4: v4, ipv6: v6) })
    #expect(added.ipv4?.new == v4 && added.ipv4?.old == nil)
    #expect(added.ipv6?.new == v6 && added.ipv6?.old == nil)
    // Only the IPv6 half changes: the IPv4 half is left alone.
    var moved = v6
    moved.direct = true
    let changed = try #require(
      index.apply(.added(Self.lease())) { _ in VXLANLeasePeers(ipv4: v4, ipv6: moved) })
    #expect(changed.ipv4 == nil)
    #expect(changed.ipv6?.old == v6 && changed.ipv6?.new == moved)
    let removed = try #require(index.apply(.removed(Self.lease())) { _ in nil })
    #expect(removed.ipv4?.old == v4 && removed.ipv4?.new == nil)
    #expect(removed.ipv6?.old == moved && removed.ipv6?.new == nil)
  }
}
