import Foundation
import TestSupport
import Testing

/// vxlan on a dual-stack network, driven by backend-probe inside a namespace and read back
/// with `ip -6` and `bridge`: `flannel-v6.1` over the IPv6 underlay with the lease's IPv6
/// address /128, and per remote dual-stack lease an IPv6 neighbour, an FDB entry to its
/// PublicIPv6 and an onlink route — stock's layout.
@Suite struct VXLANIPv6BackendTests {
  static let extra = ["PROBE_IPV6_NETWORK": "fd10::/56"]
  static let mac16 = "0e:00:00:00:00:16"
  static let mac6x16 = "0e:00:00:00:06:16"
  static let mac6x19 = "0e:00:00:00:06:19"
  /// Own lease; 16 dual-stack; 17 IPv4 only; 18 with an IPv6 subnet but no BackendV6Data
  /// (IPv4 only); 19 dual-stack with its PublicIPv6 beyond the underlay's subnet.
  static let table =
    "apply 10.1.15.0/24,192.168.100.1,vxlan,0e:00:00:00:00:15,v6=fd10:0:0:15::/64,ip6=fd00:100::1,mac6=0e:00:00:00:06:15 "
    + "10.1.16.0/24,192.168.100.2,vxlan,\(mac16),v6=fd10:0:0:16::/64,ip6=fd00:100::2,mac6=\(mac6x16) "
    + "10.1.17.0/24,192.168.100.3,vxlan,0e:00:00:00:00:17 "
    + "10.1.18.0/24,192.168.100.4,vxlan,0e:00:00:00:00:18,v6=fd10:0:0:18::/64,ip6=fd00:100::4 "
    + "10.1.19.0/24,192.168.100.5,vxlan,0e:00:00:00:00:19,v6=fd10:0:0:19::/64,ip6=fd00:200::5,mac6=\(mac6x19)"
  static let startup = ["prepare", "configure 10.1.15.0/24 fd10:0:0:15::/64", table]

  /// The BackendLab host with fd00:100::1/64 on eth0 as well.
  static func lab(_ prefix: String) throws -> BackendLab {
    let lab = try BackendLab(prefix)
    try lab.ns.ip("-6", "addr", "add", "fd00:100::1/64", "dev", "eth0", "nodad")
    return lab
  }

  /// flannel-v6.1 as `ip`/`bridge` print it: device, global addresses, routes through it,
  /// permanent neighbours and FDB entries with a remote.
  struct IPv6State: Equatable {
    var device = ""
    var addresses: Set<String> = []
    var routes: Set<String> = []
    var neighbours: Set<String> = []
    var fdb: Set<String> = []
  }

  static func state(_ lab: BackendLab) throws -> IPv6State {
    var s = IPv6State()
    let name = "flannel-v6.1"
    guard let link = try? lab.ns.json("/usr/sbin/ip", ["-d", "-j", "link", "show", name]).first
    else { return s }
    let data = ((link["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any]) ?? [:]
    s.device =
      "\(link["ifindex"]!) \(link["address"]!) mtu \(link["mtu"]!) "
      + "\((link["flags"] as? [String])?.contains("UP") == true ? "up" : "down") "
      + "id \(data["id"] ?? "-") local \(data["local6"] ?? "-") link \(data["link"] ?? "-") "
      + "port \(data["port"] ?? "-") learning \(data["learning"] ?? "-")"
    s.addresses = Set(
      try lab.ns.json("/usr/sbin/ip", ["-6", "-j", "addr", "show", "dev", name])
        .flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }
        .filter { $0["scope"] as? String == "global" }
        .map { "\($0["local"]!)/\($0["prefixlen"]!)" })
    s.routes = Set(
      try lab.ns.json("/usr/sbin/ip", ["-6", "-j", "route"]).compactMap { r in
        let destination = "\(r["dst"] ?? "")"
        guard !destination.hasPrefix("fe80:"), !destination.hasPrefix("ff00:") else { return nil }
        var text = destination
        if let gateway = r["gateway"] { text += " via \(gateway)" }
        text += " dev \(r["dev"] ?? "")"
        if (r["flags"] as? [String])?.contains("onlink") == true { text += " onlink" }
        return text
      })
    s.neighbours = Set(
      try lab.ns.json("/usr/sbin/ip", ["-6", "-j", "neigh", "show", "dev", name])
        .filter { ($0["state"] as? [String]) == ["PERMANENT"] }
        .map { "\($0["dst"]!) \($0["lladdr"] ?? "-")" })
    s.fdb = Set(
      try lab.ns.json("/usr/sbin/bridge", ["-j", "fdb", "show", "dev", name])
        .filter { $0["dst"] != nil }
        .map { "\($0["mac"]!) dst \($0["dst"]!) \($0["state"] ?? "")" })
    return s
  }

  static let wantedRoutes: Set<String> = [
    "fd00:100::/64 dev eth0", "fd10:0:0:15:: dev flannel-v6.1",
    "fd10:0:0:16::/64 via fd10:0:0:16:: dev flannel-v6.1 onlink",
    "fd10:0:0:19::/64 via fd10:0:0:19:: dev flannel-v6.1 onlink",
  ]

  @Test func programsTheIPv6DeviceAndEntriesExactlyAsStock() throws {
    let lab = try Self.lab("bk-vx6")
    let (answers, logs, raw) = try lab.run("vxlan", extra: Self.extra, Self.startup)
    #expect(answers.allSatisfy { $0.keys.contains("ok") }, "\(answers) \(logs)")
    let s = try Self.state(lab)
    let fields = s.device.split(separator: " ").map(String.init)
    let mac6 = try #require(fields.dropFirst().first)
    // BackendV6Data exactly as stock writes it; the MTU as stock's device ends up with it
    // (1500 − 50 asked, clamped by the kernel to 1500 − 70 over IPv6).
    #expect(raw.contains(#""backendV6Data":{"VNI":1,"VtepMAC":"\#(mac6)"}"#))
    #expect(
      s.device
        == "\(fields[0]) \(mac6) mtu 1430 up id 1 local fd00:100::1 link eth0 port 8472 learning 0"
    )
    #expect(s.addresses == ["fd10:0:0:15::/128"])
    #expect(s.routes == Self.wantedRoutes)
    #expect(s.neighbours == ["fd10:0:0:16:: \(Self.mac6x16)", "fd10:0:0:19:: \(Self.mac6x19)"])
    #expect(
      s.fdb == [
        "\(Self.mac6x16) dst fd00:100::2 permanent", "\(Self.mac6x19) dst fd00:200::5 permanent",
      ])
    // IPv4 as before, for every lease (the IPv4-only ones included).
    let v4 = try lab.snapshot()
    #expect(
      v4.routes == [
        "192.168.100.0/24 dev eth0", "10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink",
        "10.1.17.0/24 via 10.1.17.0 dev flannel.1 onlink",
        "10.1.18.0/24 via 10.1.18.0 dev flannel.1 onlink",
        "10.1.19.0/24 via 10.1.19.0 dev flannel.1 onlink",
      ])
    #expect(
      logs.contains { $0.hasPrefix("warning: Ignoring v6 subnet fd10:0:0:18::/64 of 10.1.18.0/24") }
    )
    #expect(logs.contains("info: Programmed v6 subnet fd10:0:0:16::/64 via fd00:100::2"))
  }

  @Test func restartChangesNothingAndEventsTouchOnlyTheirEntries() throws {
    let lab = try Self.lab("bk-vx6r")
    _ = try lab.run("vxlan", extra: Self.extra, Self.startup)
    // Duplicate address detection of the device's addresses ends a second later: a kernel
    // change of its own, before the watched window.
    #expect(
      try lab.waitUntil(seconds: 5) {
        try lab.ns.ip("-6", "addr", "show", "tentative").isEmpty
      })
    let before = try Self.state(lab)
    let monitor = try KernelChangeMonitor(lab.ns)
    _ = try lab.run("vxlan", extra: Self.extra, Self.startup)
    #expect(try monitor.changes() == [])
    #expect(try Self.state(lab) == before)

    // Events: 16 removed, 20 added, 19's IPv6 VTEP MAC changed. Only theirs change.
    let (answers, logs, _) = try lab.run(
      "vxlan", extra: Self.extra,
      [
        "prepare", "configure 10.1.15.0/24 fd10:0:0:15::/64", Self.table,
        "remove 10.1.16.0/24,192.168.100.2,vxlan,\(Self.mac16),v6=fd10:0:0:16::/64,ip6=fd00:100::2,mac6=\(Self.mac6x16)",
        "add 10.1.20.0/24,192.168.100.6,vxlan,0e:00:00:00:00:20,v6=fd10:0:0:20::/64,ip6=fd00:100::6,mac6=0e:00:00:00:06:20",
        "add 10.1.19.0/24,192.168.100.5,vxlan,0e:00:00:00:00:19,v6=fd10:0:0:19::/64,ip6=fd00:200::5,mac6=0e:00:00:00:06:99",
      ])
    #expect(answers.allSatisfy { $0.keys.contains("ok") }, "\(answers) \(logs)")
    let after = try Self.state(lab)
    #expect(after.device == before.device)
    #expect(
      after.routes == [
        "fd00:100::/64 dev eth0", "fd10:0:0:15:: dev flannel-v6.1",
        "fd10:0:0:19::/64 via fd10:0:0:19:: dev flannel-v6.1 onlink",
        "fd10:0:0:20::/64 via fd10:0:0:20:: dev flannel-v6.1 onlink",
      ])
    #expect(
      after.neighbours == ["fd10:0:0:19:: 0e:00:00:00:06:99", "fd10:0:0:20:: 0e:00:00:00:06:20"])
    #expect(
      after.fdb == [
        "0e:00:00:00:06:99 dst fd00:200::5 permanent",
        "0e:00:00:00:06:20 dst fd00:100::6 permanent",
      ])
    #expect(logs.contains("info: Removed v6 subnet fd10:0:0:16::/64 via fd00:100::2"))
    #expect(!(try lab.snapshot().routes.contains { $0.hasPrefix("10.1.16.0/24") }))
  }

  @Test func deletedIPv6DeviceIsRecreatedWithItsEntries() throws {
    let lab = try Self.lab("bk-vx6d")
    let probe = try lab.start("vxlan", extra: Self.extra, Self.startup + ["hold 30"])
    defer { probe.terminate() }
    for _ in 0..<3 { _ = try probe.line { $0.hasPrefix(#"{"ok""#) } }
    let before = try Self.state(lab)
    try lab.ns.ip("link", "del", "flannel-v6.1")
    #expect(
      try lab.waitUntil(seconds: 10) {
        let now = try Self.state(lab)
        return now.routes == Self.wantedRoutes && now.fdb == before.fdb
          && now.neighbours == before.neighbours && now.addresses == before.addresses
      })
    let after = try Self.state(lab)
    // The same MAC (the one in the lease) on the new device.
    #expect(
      after.device.split(separator: " ").dropFirst().first
        == before.device.split(separator: " ").dropFirst().first)
    #expect(try lab.snapshot().routes.contains("10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink"))
  }

  /// DirectRouting (stock decides it for IPv6 as for IPv4): a peer whose PublicIPv6 is on
  /// the underlay's subnet gets `S6 via P6` on eth0, no neighbour and no FDB entry; one
  /// beyond it stays encapsulated. A restart keeps both as they are.
  @Test func directRoutingForIPv6() throws {
    let lab = try Self.lab("bk-vx6dr")
    let backend = #"{"Type":"vxlan","DirectRouting":true}"#
    let (answers, logs, _) = try lab.run(
      "vxlan", backend: backend, extra: Self.extra, Self.startup)
    #expect(answers.allSatisfy { $0.keys.contains("ok") }, "\(answers) \(logs)")
    let s = try Self.state(lab)
    #expect(
      s.routes == [
        "fd00:100::/64 dev eth0", "fd10:0:0:15:: dev flannel-v6.1",
        "fd10:0:0:16::/64 via fd00:100::2 dev eth0",
        "fd10:0:0:19::/64 via fd10:0:0:19:: dev flannel-v6.1 onlink",
      ])
    #expect(s.neighbours == ["fd10:0:0:19:: \(Self.mac6x19)"])
    #expect(s.fdb == ["\(Self.mac6x19) dst fd00:200::5 permanent"])
    #expect(logs.contains("info: Programmed v6 subnet fd10:0:0:16::/64 via fd00:100::2 (direct)"))

    #expect(
      try lab.waitUntil(seconds: 5) { try lab.ns.ip("-6", "addr", "show", "tentative").isEmpty })
    let monitor = try KernelChangeMonitor(lab.ns)
    _ = try lab.run("vxlan", backend: backend, extra: Self.extra, Self.startup)
    #expect(try monitor.changes() == [])
    #expect(try Self.state(lab) == s)
  }

  @Test func aNodeWithoutIPv6IsRefusedWithTheFix() throws {
    let lab = try BackendLab("bk-vx6n")
    let (answers, _, _) = try lab.run("vxlan", extra: Self.extra, ["prepare"])
    let error = answers.first?["error"] as? String ?? ""
    #expect(error.hasPrefix("EnableIPv6 is set (IPv6Network fd10::/56), but this node has no IPv6"))
    #expect(error.contains("-public-ipv6"))
  }
}
