import Backends
import FlannelCore
import Testing

@testable import Daemon

/// IPv6-only selection (`"EnableIPv4": false`) over the dual-stack tests' interface table:
/// stock's LookupExtIface for its IPv6 stack, which needs no IPv4 address.
@Suite struct InterfaceSelectorIPv6OnlyTests {
  static func select(_ flags: [String], ipv6DefaultRoute: String? = "eth0") throws
    -> ExternalInterface
  {
    let options = try FlanneldOptions.parse(arguments: flags, environment: [:])
    return try InterfaceSelector.selectIPv6Only(
      options: options,
      environment: InterfaceSelectorIPv6Tests.environment(
        defaultRoute: nil, ipv6DefaultRoute: ipv6DefaultRoute))
  }

  /// "name ipv6Address publicIPv6 publicIP" for each choice.
  @Test(arguments: [
    ([], "eth0 fd00:2::15 fd00:2::15 0.0.0.0"),
    (["-iface=eth1"], "eth1 fd00:50::11 fd00:50::11 0.0.0.0"),
    (["-iface=fd00:50::11"], "eth1 fd00:50::11 fd00:50::11 0.0.0.0"),
    (["-iface=nope", "-iface=ll0"], "ll0 fe80::70 fe80::70 0.0.0.0"),
    (["-iface-regex=^fd00:50:"], "eth1 fd00:50::11 fd00:50::11 0.0.0.0"),
    (["-iface-regex=^eth1$"], "eth1 fd00:50::11 fd00:50::11 0.0.0.0"),
    (["-public-ipv6=fd00:50::11"], "eth1 fd00:50::11 fd00:50::11 0.0.0.0"),
    (["-iface=eth0", "-public-ipv6=2001:db8::7"], "eth0 fd00:2::15 2001:db8::7 0.0.0.0"),
    (["-iface=eth0", "-public-ip=203.0.113.5"], "eth0 fd00:2::15 fd00:2::15 203.0.113.5"),
  ])
  func choosesTheIPv6AddressAsStock(flags: [String], expected: String) throws {
    let chosen = try Self.select(flags)
    let text =
      "\(chosen.name) \(chosen.ipv6Address.map { "\($0)" } ?? "-") \(chosen.publicIPv6.map { "\($0)" } ?? "-") \(chosen.publicIP)"
    #expect(text == expected)
    #expect(chosen.address == IPv4Address(0), "no IPv4 address is used")
  }

  @Test(arguments: [
    (["-iface=v4only"], "failed to find IPv6 address for interface v4only"),
    (["-iface=10.0.2.15"], "-iface=10.0.2.15 is an IPv4 address, but the network is IPv6-only"),
    (["-iface-can-reach=10.0.0.1"], "-iface-can-reach is not supported on an IPv6-only network"),
  ])
  func refusesWithTheReason(flags: [String], reason: String) throws {
    #expect {
      try Self.select(flags)
    } throws: { "\($0)".contains(reason) }
  }

  @Test func withoutAnIPv6DefaultRouteItAsksForAnInterface() throws {
    #expect {
      try Self.select([], ipv6DefaultRoute: nil)
    } throws: { "\($0)".contains("this host has no IPv6 default route; name the interface") }
  }
}
