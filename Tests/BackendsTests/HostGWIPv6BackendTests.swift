import Foundation
import TestSupport
import Testing

/// host-gw on a dual-stack network, driven by backend-probe inside a namespace and read back
/// with `ip -6 route`: one IPv6 route `<IPv6 subnet> via <PublicIPv6> dev eth0` per remote
/// dual-stack lease, beside its IPv4 route.
@Suite struct HostGWIPv6BackendTests {
  static let backend = #"{"Type":"host-gw"}"#
  static let extra = ["PROBE_IPV6_NETWORK": "fd10::/56"]
  static let table =
    "apply 10.1.15.0/24,192.168.100.1,host-gw,v6=fd10:0:0:15::/64,ip6=fd00:100::1 "
    + "10.1.16.0/24,192.168.100.2,host-gw,v6=fd10:0:0:16::/64,ip6=fd00:100::2 "
    + "10.1.17.0/24,192.168.100.3,host-gw,v6=fd10:0:0:17::/64,ip6=fd00:100::3 "
    + "10.1.18.0/24,192.168.100.4,host-gw "
    + "10.1.19.0/24,192.168.100.5,vxlan,0e:00:00:00:00:19,v6=fd10:0:0:19::/64,ip6=fd00:100::5"
  static let startup = ["prepare", "configure 10.1.15.0/24 fd10:0:0:15::/64", table]

  /// The BackendLab host with fd00:100::1/64 on eth0 as well.
  static func lab(_ prefix: String) throws -> BackendLab {
    let lab = try BackendLab(prefix)
    try lab.ns.ip("-6", "addr", "add", "fd00:100::1/64", "dev", "eth0", "nodad")
    return lab
  }

  /// The main table's IPv6 routes as "dst via gw dev d", without the kernel's fe80::/64.
  static func ipv6Routes(_ lab: BackendLab) throws -> Set<String> {
    Set(
      try lab.ns.json("/usr/sbin/ip", ["-6", "-j", "route"]).compactMap { route in
        let destination = "\(route["dst"] ?? "")"
        guard !destination.hasPrefix("fe80:") else { return nil }
        var text = destination
        if let gateway = route["gateway"] { text += " via \(gateway)" }
        return text + " dev \(route["dev"] ?? "")"
      })
  }

  static let wanted: Set<String> = [
    "fd00:100::/64 dev eth0", "fd10:0:0:16::/64 via fd00:100::2 dev eth0",
    "fd10:0:0:17::/64 via fd00:100::3 dev eth0",
  ]

  @Test func programsAnIPv6RoutePerDualStackPeer() throws {
    let lab = try Self.lab("bk-hg6")
    let (answers, logs, _) = try lab.run(
      "host-gw", backend: Self.backend, extra: Self.extra, Self.startup)
    #expect(answers.allSatisfy { $0.keys.contains("ok") }, "\(answers)")
    // The IPv4-only peer (10.1.18.0/24) gets its IPv4 route only; the vxlan one none.
    #expect(try Self.ipv6Routes(lab) == Self.wanted)
    #expect(
      try lab.snapshot().routes == [
        "192.168.100.0/24 dev eth0", "10.1.16.0/24 via 192.168.100.2 dev eth0",
        "10.1.17.0/24 via 192.168.100.3 dev eth0", "10.1.18.0/24 via 192.168.100.4 dev eth0",
      ])
    #expect(logs.contains("info: Added route fd10:0:0:16::/64 via fd00:100::2 dev eth0"))
  }

  @Test func restartChangesNothingAndDeltasTouchOnlyTheirRoutes() throws {
    let lab = try Self.lab("bk-hg6r")
    _ = try lab.run("host-gw", backend: Self.backend, extra: Self.extra, Self.startup)
    let monitor = try KernelChangeMonitor(lab.ns)
    _ = try lab.run("host-gw", backend: Self.backend, extra: Self.extra, Self.startup)
    #expect(try monitor.changes() == [])

    // A differing route is replaced; the route of a lease that is gone is deleted; an event
    // adds and removes exactly its own route.
    try lab.ns.ip(
      "-6", "route", "replace", "fd10:0:0:16::/64", "via", "fd00:100::99", "dev", "eth0")
    let (_, logs, _) = try lab.run(
      "host-gw", backend: Self.backend, extra: Self.extra,
      [
        "prepare", "configure 10.1.15.0/24 fd10:0:0:15::/64",
        "apply 10.1.16.0/24,192.168.100.2,host-gw,v6=fd10:0:0:16::/64,ip6=fd00:100::2",
        "add 10.1.20.0/24,192.168.100.6,host-gw,v6=fd10:0:0:20::/64,ip6=fd00:100::6",
        "remove 10.1.16.0/24,192.168.100.2,host-gw,v6=fd10:0:0:16::/64,ip6=fd00:100::2",
      ])
    #expect(logs.contains { $0.hasPrefix("warning: Replacing existing route to fd10:0:0:16::/64") })
    #expect(
      try Self.ipv6Routes(lab) == [
        "fd00:100::/64 dev eth0", "fd10:0:0:20::/64 via fd00:100::6 dev eth0",
      ])
  }

  @Test func missingIPv6RouteIsRestoredByTheCheckLoop() throws {
    let lab = try Self.lab("bk-hg6l")
    let probe = try lab.start(
      "host-gw", backend: Self.backend, extra: Self.extra, Self.startup + ["hold 40"])
    defer { probe.terminate() }
    for _ in 0..<3 { _ = try probe.line { $0.hasPrefix(#"{"ok""#) } }
    try lab.ns.ip("-6", "route", "del", "fd10:0:0:16::/64")
    #expect(!(try Self.ipv6Routes(lab).contains("fd10:0:0:16::/64 via fd00:100::2 dev eth0")))
    // The check runs every 10 s.
    #expect(try lab.waitUntil(seconds: 15) { try Self.ipv6Routes(lab) == Self.wanted })
  }

  @Test func aNodeWithoutIPv6IsRefusedWithTheFix() throws {
    let lab = try BackendLab("bk-hg6n")
    try lab.ns.ip("-6", "addr", "flush", "dev", "eth0")
    let (answers, _, _) = try lab.run(
      "host-gw", backend: Self.backend, extra: Self.extra, ["prepare"])
    let error = answers.first?["error"] as? String ?? ""
    #expect(error.hasPrefix("EnableIPv6 is set (IPv6Network fd10::/56), but this node has no IPv6"))
    #expect(error.contains("-public-ipv6"))
  }
}
