import Backends
import FlannelCore
import Testing

@testable import Daemon

/// Dual-stack selection (EnableIPv6) over fixed interface tables: stock's LookupExtIface for
/// its dual stack.
@Suite struct InterfaceSelectorIPv6Tests {
  static func v4(_ text: String) -> IPv4Address { IPv4Address(text)! }
  static func v6(
    _ text: String, permanent: Bool = true, temporary: Bool = false,
    deprecated: Bool = false
  ) -> LocalIPv6Address {
    LocalIPv6Address(
      IPv6Address(text)!, deprecated: deprecated, permanent: permanent, temporary: temporary)
  }

  static let table = [
    LocalInterface(name: "lo", index: 1, addresses: [v4("127.0.0.1")], ipv6Addresses: [v6("::1")]),
    LocalInterface(
      name: "eth0", index: 2, addresses: [v4("10.0.2.15")],
      ipv6Addresses: [
        v6("fe80::1"), v6("2001:db8::99", permanent: false, temporary: true),
        v6("2001:db8::5", permanent: false), v6("fd00:2::15"),
      ]),
    LocalInterface(
      name: "eth1", index: 3, addresses: [v4("192.168.50.11")],
      ipv6Addresses: [v6("fd00:50::dead", deprecated: true), v6("fd00:50::11")]),
    LocalInterface(
      name: "ll0", index: 4, addresses: [v4("192.168.70.1")], ipv6Addresses: [v6("fe80::70")]),
    LocalInterface(name: "v4only", index: 5, addresses: [v4("192.168.80.1")]),
  ]

  static func environment(defaultRoute: String? = "eth0", ipv6DefaultRoute: String? = "eth0")
    -> InterfaceEnvironment
  {
    InterfaceEnvironment(
      interfaces: { table }, defaultRouteInterface: { defaultRoute },
      sourceAddress: { _ in .success(v4("192.168.50.11")) }, mtu: { _ in 1500 },
      ipv6DefaultRouteInterface: { ipv6DefaultRoute })
  }

  struct Case: Sendable, CustomStringConvertible {
    var description: String
    var ifaces: [String] = []
    var regexes: [String] = []
    var canReach: String? = nil
    var publicIP: String? = nil
    var publicIPv6 = ""
    var ipv6DefaultRoute: String? = "eth0"
    /// "name address ipv6Address publicIPv6", or the start of the error.
    var expected: String
  }

  static let cases: [Case] = [
    Case(
      description: "default routes: the first usable IPv6 (permanent, global first)",
      expected: "eth0 10.0.2.15 fd00:2::15 fd00:2::15"),
    Case(
      description: "no IPv6 default route",
      ipv6DefaultRoute: nil,
      expected:
        "error: Failed to find any valid interface to use: failed to get default v6 interface"),
    Case(
      description: "IPv6 default route on another interface", ipv6DefaultRoute: "eth1",
      expected:
        "error: Failed to find any valid interface to use: v6 default route interface eth1 must be the same with v4 default route interface eth0"
    ),
    Case(
      description: "public-ipv6 alone picks its owner", publicIPv6: "fd00:50::11",
      expected: "eth1 192.168.50.11 fd00:50::11 fd00:50::11"),
    Case(
      description: "public-ipv6 nobody owns", publicIPv6: "fd00:99::1",
      expected: "error: Failed to find any valid interface to use: error looking up v6 interface"),
    Case(
      description: "public-ipv6 not an IPv6 address", publicIPv6: "10.0.0.1",
      expected: "error: invalid public IPv6 address: 10.0.0.1"),
    Case(
      description: "public-ip with public-ipv6 on the same interface", publicIP: "192.168.50.11",
      publicIPv6: "fd00:50::11", expected: "eth1 192.168.50.11 fd00:50::11 fd00:50::11"),
    Case(
      description: "public-ip with public-ipv6 on another interface", publicIP: "192.168.50.11",
      publicIPv6: "fd00:2::15",
      expected:
        "error: Failed to find any valid interface to use: v6 interface eth0 must be the same with v4 interface eth1"
    ),
    Case(
      description: "iface by name skips deprecated IPv6", ifaces: ["eth1"],
      expected: "eth1 192.168.50.11 fd00:50::11 fd00:50::11"),
    Case(
      description: "iface by name: public-ipv6 is only advertised", ifaces: ["eth1"],
      publicIPv6: "2001:db8:ffff::1",
      expected: "eth1 192.168.50.11 fd00:50::11 2001:db8:ffff::1"),
    Case(
      description: "iface by name: link-local when nothing else", ifaces: ["ll0"],
      expected: "ll0 192.168.70.1 fe80::70 fe80::70"),
    Case(
      description: "iface without IPv6", ifaces: ["v4only"],
      expected:
        "error: Failed to find interface to use that matches the interfaces and/or regexes provided (Could not find valid interface matching v4only: failed to find IPv6 address for interface v4only"
    ),
    Case(
      description: "iface by IPv6 address", ifaces: ["fd00:50::11"],
      expected: "eth1 192.168.50.11 fd00:50::11 fd00:50::11"),
    Case(
      description: "iface by IPv4 address takes public-ipv6 as its IPv6 address",
      ifaces: ["10.0.2.15"], publicIPv6: "2001:db8::5",
      expected: "eth0 10.0.2.15 2001:db8::5 2001:db8::5"),
    Case(
      description: "regex must match an address of each family", regexes: ["^(192|fd00:50)"],
      expected: "eth1 192.168.50.11 fd00:50::11 fd00:50::11"),
    Case(
      description: "regex matching IPv4 only falls back to names", regexes: ["^192\\.168\\.80|^ll"],
      expected: "ll0 192.168.70.1 fe80::70 fe80::70"),
    Case(
      description: "can-reach takes the interface's first IPv6", canReach: "192.168.50.200",
      expected: "eth1 192.168.50.11 fd00:50::11 fd00:50::11"),
  ]

  @Test(arguments: cases)
  func selects(_ c: Case) {
    let environment = Self.environment(ipv6DefaultRoute: c.ipv6DefaultRoute)
    let result: String
    do {
      let chosen = try InterfaceSelector.select(
        ifaces: c.ifaces, ifaceRegexes: c.regexes, ifaceCanReach: c.canReach,
        publicIP: c.publicIP, ipv6: .init(publicIPv6: c.publicIPv6), environment: environment)
      result =
        "\(chosen.name) \(chosen.address) \(chosen.ipv6Address.map { "\($0)" } ?? "-") \(chosen.publicIPv6.map { "\($0)" } ?? "-")"
    } catch {
      result = "error: \(error)"
    }
    #expect(result.hasPrefix(c.expected), "\(result)")
  }

  @Test func ipv4OnlySelectionLeavesIPv6Out() throws {
    let chosen = try InterfaceSelector.select(
      ifaces: ["eth0"], publicIP: nil, environment: Self.environment())
    #expect(chosen.ipv6Address == nil && chosen.publicIPv6 == nil)
  }

  @Test func theNoIPv6ErrorNamesTheWaysOut() {
    let text = InterfaceSelector.noIPv6(on: Self.table[4]).description
    #expect(text.hasPrefix("failed to find IPv6 address for interface v4only"))
    #expect(text.contains("-iface") && text.contains("remove EnableIPv6"))
  }

  @Test func startupLogLinesNameBothFamilies() {
    let chosen = ExternalInterface(
      name: "eth1", index: 3, address: Self.v4("192.168.50.11"),
      publicIP: Self.v4("192.168.50.11"), mtu: 1500, ipv6Address: IPv6Address("fd00:50::11"),
      publicIPv6: IPv6Address("fd00:50::11"))
    #expect(
      InterfaceSelector.startupLogLines(chosen) == [
        "Using interface with name eth1 and address 192.168.50.11",
        "Using interface with name eth1 and v6 address fd00:50::11",
        "Using 192.168.50.11 as external address",
        "Using fd00:50::11 as external address",
      ])
  }

  @Test(arguments: [
    ("2001:db8::1", true, false), ("fd00::1", true, false), ("fe80::1", false, true),
    ("febf::1", false, true), ("fec0::1", true, false), ("::1", false, false),
    ("::", false, false), ("ff02::1", false, false),
  ])
  func scopes(address: String, global: Bool, linkLocal: Bool) {
    let ip = IPv6Address(address)!
    #expect(IPv6Scope.isGlobalUnicast(ip) == global)
    #expect(IPv6Scope.isLinkLocal(ip) == linkLocal)
  }
}
