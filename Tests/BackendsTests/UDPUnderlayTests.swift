import Backends
import DataPlane
import FlannelCore
import Testing

@Suite struct UDPUnderlayTests {
  /// IPv4 and dual-stack networks keep stock's IPv4 underlay; IPv6-only ones take IPv6.
  @Test func theNetworkPicksTheUnderlay() {
    #expect(UDPUnderlay.of(enableIPv4: true) == .ipv4)
    #expect(UDPUnderlay.of(enableIPv4: false) == .ipv6)
  }

  /// flannel0's MTU: the external MTU less 20 + 8 (stock's) or 40 + 8 bytes.
  @Test(arguments: [
    (UDPUnderlay.ipv4, 1500, 1472), (.ipv6, 1500, 1452), (.ipv4, 9000, 8972), (.ipv6, 1280, 1232),
  ])
  func mtuLeavesRoomForTheOuterHeaders(underlay: UDPUnderlay, external: Int, mtu: Int) {
    #expect(underlay.tunnelMTU(externalMTU: external) == mtu)
  }

  static let external = ExternalInterface(
    name: "eth0", index: 2, address: IPv4Address(0xc0a8_0102), publicIP: IPv4Address(0xc0a8_0102),
    mtu: 1500, ipv6Address: IPv6Address("fd00:77::12"), publicIPv6: IPv6Address("2001:db8::12"))

  /// The socket binds the interface's own address of the underlay's family (not a public one).
  @Test func socketsBindTheInterfaceAddressOfTheFamily() throws {
    #expect(try UDPUnderlay.ipv4.bindAddress(of: Self.external) == .ipv4(0xc0a8_0102))
    #expect(
      try UDPUnderlay.ipv6.bindAddress(of: Self.external)
        == .ipv6(high: 0xfd00_0077_0000_0000, low: 0x12))
  }

  /// A network with IPv6 inside needs flannel0 at 1280 or more; IPv4 alone takes any MTU.
  @Test func anMTUTooSmallForIPv6InsideIsRefusedWithTheFix() throws {
    var external = Self.external
    external.mtu = 1327
    #expect(try UDPUnderlay.ipv4.tunnelMTU(external: external, carriesIPv6: false) == 1299)
    #expect(try UDPUnderlay.ipv4.tunnelMTU(external: external, carriesIPv6: true) == 1299)
    do {
      _ = try UDPUnderlay.ipv6.tunnelMTU(external: external, carriesIPv6: true)
      Issue.record("flannel0 at 1279 accepted for IPv6")
    } catch {
      #expect(error.description.contains("interface eth0 has MTU 1327"))
      #expect(error.description.contains("at least 1328"))
    }
    external.mtu = 1328
    #expect(try UDPUnderlay.ipv6.tunnelMTU(external: external, carriesIPv6: true) == 1280)
    external.mtu = 1307
    #expect(throws: UDPUnderlayError.self) {
      try UDPUnderlay.ipv4.tunnelMTU(external: external, carriesIPv6: true)
    }
  }

  @Test func anIPv6UnderlayWithoutAnIPv6AddressSaysWhatToDo() {
    var external = Self.external
    external.ipv6Address = nil
    #expect(throws: Never.self) { try UDPUnderlay.ipv4.bindAddress(of: external) }
    do {
      _ = try UDPUnderlay.ipv6.bindAddress(of: external)
      Issue.record("no IPv6 address, yet an IPv6 bind address")
    } catch {
      #expect(error.description.contains("interface eth0 has no IPv6 address"))
      #expect(error.description.contains("-iface"))
    }
  }

  static func lease(publicIPv6: String?) -> Lease {
    var attrs = LeaseAttrs(publicIP: IPv4Address(0))
    attrs.publicIPv6 = publicIPv6.flatMap(IPv6Address.init)
    return Lease(
      subnet: IPv4Network(address: IPv4Address(0), prefixLength: 0), attrs: attrs,
      expiration: nil)
  }

  /// Next hops: the PublicIP over IPv4, the PublicIPv6 over IPv6 (none: no route).
  @Test func nextHopsAreThePublicAddressOfTheFamily() {
    let lease = Self.lease(publicIPv6: "fd00:77::13")
    #expect(UDPUnderlay.ipv4.nextHop(for: lease) == .ipv4(0))
    #expect(UDPUnderlay.ipv6.nextHop(for: lease) == .ipv6(high: 0xfd00_0077_0000_0000, low: 0x13))
    #expect(UDPUnderlay.ipv6.nextHop(for: Self.lease(publicIPv6: nil)) == nil)
  }
}
