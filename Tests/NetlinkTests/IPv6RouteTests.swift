import Foundation
import TestSupport
import Testing

/// IPv6 routes and addresses through the Netlink module, read back with `ip -6`.
@Suite struct IPv6RouteTests {
  /// An underlay u0 with fd00:70::1/64 (no duplicate address detection: usable at once).
  private func lab() throws -> (ScratchNamespace, NetlinkProbe) {
    let ns = try ScratchNamespace("nl-route6")
    let probe = NetlinkProbe(namespace: ns)
    try probe.expectSuccess("veth u0 u1", "up u1", "up u0")
    try ns.ip("-6", "addr", "add", "fd00:70::1/64", "dev", "u0", "nodad")
    return (ns, probe)
  }

  /// `ip -6 -j route` entries of the main table as "dst via gw dev d", without the kernel's
  /// fe80::/64 and multicast routes.
  private func ipRoutes(_ ns: ScratchNamespace) throws -> Set<String> {
    Set(
      try ns.json("/usr/sbin/ip", ["-6", "-j", "route"]).compactMap { route in
        let destination = "\(route["dst"] ?? "")"
        guard !destination.hasPrefix("fe80:"), !destination.hasPrefix("ff00:") else { return nil }
        var text = destination
        if let gateway = route["gateway"] { text += " via \(gateway)" }
        return text + " dev \(route["dev"] ?? "")"
      })
  }

  @Test func replaceListDeleteMatchesIPRoute() throws {
    let (ns, probe) = try lab()
    let listed = try probe.expectSuccess(
      "route6-replace fd10:0:0:16::/64 via fd00:70::2 dev u0",
      "route6-replace fd10:0:0:17::/64 via fd00:70::3",
      "route6-list"
    ).array.compactMap { $0 as? String }
    #expect(
      Set(listed).isSuperset(of: [
        "fd10:0:0:16::/64 via fd00:70::2 dev u0", "fd10:0:0:17::/64 via fd00:70::3 dev u0",
        "fd00:70::/64 dev u0",
      ]))
    #expect(
      try ipRoutes(ns) == [
        "fd10:0:0:16::/64 via fd00:70::2 dev u0", "fd10:0:0:17::/64 via fd00:70::3 dev u0",
        "fd00:70::/64 dev u0",
      ])

    // Replace swaps the gateway of the one route instead of adding a second.
    try probe.expectSuccess("route6-replace fd10:0:0:17::/64 via fd00:70::9 dev u0")
    #expect(
      try ipRoutes(ns).filter { $0.hasPrefix("fd10:0:0:17::") } == [
        "fd10:0:0:17::/64 via fd00:70::9 dev u0"
      ])

    try probe.expectSuccess(
      "route6-del fd10:0:0:16::/64 via fd00:70::2 dev u0", "route6-del fd10:0:0:17::/64")
    #expect(try ipRoutes(ns) == ["fd00:70::/64 dev u0"])

    // A gateway off every link is refused with the kernel's reason, naming the route.
    let refused = try probe.run(["route6-replace fd10:0:0:18::/64 via fd00:99::1"])
    #expect(refused.first?.error?.contains("route replace fd10:0:0:18::/64 via fd00:99::1") == true)
  }

  @Test func defaultRouteAndAddressesWithTheirFlags() throws {
    let (ns, probe) = try lab()
    #expect(try probe.expectSuccess("route6-default").ok is NSNull)
    try ns.ip("-6", "route", "add", "default", "via", "fd00:70::fe", "dev", "u0")
    #expect(try probe.expectSuccess("route6-default").object["dev"] as? String == "u0")
    let addresses = try probe.expectSuccess("addr6-list u0").array.compactMap {
      $0 as? [String: Any]
    }
    let permanent = addresses.filter { $0["address"] as? String == "fd00:70::1/64" }
    #expect(permanent.count == 1)
    #expect(permanent.first?["permanent"] as? Bool == true)
  }

  /// flannel0's IPv6 address on a dual-stack udp node: added without DAD (usable at once, not
  /// tentative), read back by `ip -6` and our listing; adding it again is EEXIST.
  @Test func addIPv6AddressIsUsableAtOnce() throws {
    let (ns, probe) = try lab()
    try probe.expectSuccess("addr6-add u1 fd10:0:0:34::/128 nodad")
    let info = try ns.json("/usr/sbin/ip", ["-6", "-j", "addr", "show", "dev", "u1"])
    let entries = (info.first?["addr_info"] as? [[String: Any]]) ?? []
    let added = entries.filter { $0["local"] as? String == "fd10:0:0:34::" }
    #expect(added.count == 1)
    #expect(added.first?["prefixlen"] as? Int == 128)
    #expect(added.first?["tentative"] == nil, "no duplicate address detection")
    let listed = try probe.expectSuccess("addr6-list u1").array.compactMap {
      ($0 as? [String: Any])?["address"] as? String
    }
    #expect(listed.contains("fd10:0:0:34::/128"))
    let again = try probe.run(["addr6-add u1 fd10:0:0:34::/128 nodad"])
    #expect(again.first?.error?.contains("address add fd10:0:0:34::/128 dev u1") == true)
  }
}
