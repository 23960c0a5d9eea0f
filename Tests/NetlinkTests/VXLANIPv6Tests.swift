import Foundation
import TestSupport
import Testing

/// What the vxlan backend needs of netlink on a dual-stack network, read back with `ip` and
/// `bridge`: a vxlan device over an IPv6 underlay, IPv6 neighbours on it, FDB entries whose
/// remote is an IPv6 address, and onlink IPv6 routes through it.
@Suite struct VXLANIPv6Tests {
  /// An underlay u0 with fd00:80::1/64 and `flannel-v6.1` over it.
  private func lab(_ prefix: String) throws -> (ScratchNamespace, NetlinkProbe, [String: Any]) {
    let ns = try ScratchNamespace(prefix)
    let probe = NetlinkProbe(namespace: ns)
    try probe.expectSuccess("veth u0 u1", "up u1", "up u0")
    try ns.ip("-6", "addr", "add", "fd00:80::1/64", "dev", "u0", "nodad")
    let created = try probe.expectSuccess(
      "vxlan flannel-v6.1 vni=1 local6=fd00:80::1 dev=u0 mtu=1450 mac=0e:aa:bb:cc:dd:06"
    ).object
    try probe.expectSuccess("up flannel-v6.1")
    return (ns, probe, created)
  }

  @Test func vxlanOverIPv6ReadsBackItsLocal6() throws {
    let (ns, probe, created) = try lab("nl-vx6")
    let read = try probe.expectSuccess("link flannel-v6.1").object
    #expect(
      NSDictionary(dictionary: created["vxlan"] as? [String: Any] ?? [:])
        == NSDictionary(dictionary: read["vxlan"] as? [String: Any] ?? [:]))
    let vx = try #require(read["vxlan"] as? [String: Any])
    #expect(vx["local6"] as? String == "fd00:80::1")
    #expect(vx["local"] is NSNull)
    let ip = try #require(
      try ns.json("/usr/sbin/ip", ["-d", "-j", "link", "show", "flannel-v6.1"]).first)
    let data = try #require((ip["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any])
    #expect(data["local6"] as? String == "fd00:80::1")
    #expect(data["id"] as? Int == 1 && data["link"] as? String == "u0")
    // Asked for 1450, the kernel clamps a device on an underlay to the underlay's MTU less
    // the IPv6 encapsulation (1500 − 70): what stock's flannel-v6.<VNI> ends up with.
    #expect(read["mtu"] as? Int == 1430 && ip["mtu"] as? Int == 1430)
    #expect(ip["address"] as? String == "0e:aa:bb:cc:dd:06")
  }

  @Test func ipv6NeighbourReplaceListDeleteMatchesIPNeigh() throws {
    let (ns, probe, _) = try lab("nl-neigh6")
    let listed = try probe.expectSuccess(
      "neigh6-replace flannel-v6.1 fd10:0:0:16:: 0e:00:00:00:00:16",
      "neigh6-replace flannel-v6.1 fd10:0:0:17:: 0e:00:00:00:00:17",
      // replace moves the existing entry to the new MAC
      "neigh6-replace flannel-v6.1 fd10:0:0:17:: 0e:00:00:00:00:18",
      "neigh6-list flannel-v6.1"
    ).array.compactMap { $0 as? [String: Any] }
    // The kernel's own entries (router solicitations, …) are not permanent.
    #expect(
      Set(listed.filter { $0["permanent"] as? Bool == true }.map { "\($0["ip"]!) \($0["mac"]!)" })
        == ["fd10:0:0:16:: 0e:00:00:00:00:16", "fd10:0:0:17:: 0e:00:00:00:00:18"])
    func ipNeigh() throws -> Set<String> {
      Set(
        try ns.json("/usr/sbin/ip", ["-6", "-j", "neigh", "show", "dev", "flannel-v6.1"])
          .filter { ($0["state"] as? [String]) == ["PERMANENT"] }
          .map { "\($0["dst"]!) \($0["lladdr"]!)" })
    }
    #expect(
      try ipNeigh() == ["fd10:0:0:16:: 0e:00:00:00:00:16", "fd10:0:0:17:: 0e:00:00:00:00:18"])
    // The IPv4 list of the device does not see them.
    #expect(try probe.expectSuccess("neigh-list flannel-v6.1").array.isEmpty)
    try probe.expectSuccess("neigh6-del flannel-v6.1 fd10:0:0:16::")
    #expect(try ipNeigh() == ["fd10:0:0:17:: 0e:00:00:00:00:18"])
  }

  @Test func fdbWithAnIPv6RemoteMatchesBridgeFDB() throws {
    let (ns, probe, _) = try lab("nl-fdb6")
    func bridgeEntries() throws -> Set<String> {
      Set(
        try ns.json("/usr/sbin/bridge", ["-j", "fdb", "show", "dev", "flannel-v6.1"])
          .filter { $0["dst"] != nil }
          .map {
            "\($0["mac"]!) \($0["dst"]!) \(($0["flags"] as? [String]) ?? []) \($0["state"] ?? "")"
          })
    }
    let listed = try probe.expectSuccess(
      "fdb6-replace flannel-v6.1 0e:00:00:00:00:16 fd00:80::2",
      // replace for the same MAC moves its one remote
      "fdb6-replace flannel-v6.1 0e:00:00:00:00:16 fd00:80::3",
      "fdb6-replace flannel-v6.1 0e:00:00:00:00:17 fd00:80::4",
      "fdb6-list flannel-v6.1"
    ).array.compactMap { $0 as? [String: Any] }
    #expect(
      Set(
        listed.filter { !($0["dst"] is NSNull) }
          .map { "\($0["mac"]!) \($0["dst"]!) \($0["permanent"]!) \($0["self"]!)" })
        == ["0e:00:00:00:00:16 fd00:80::3 1 1", "0e:00:00:00:00:17 fd00:80::4 1 1"])
    #expect(
      try bridgeEntries() == [
        "0e:00:00:00:00:16 fd00:80::3 [\"self\"] permanent",
        "0e:00:00:00:00:17 fd00:80::4 [\"self\"] permanent",
      ])
    // The IPv4 view reads the IPv6 remotes as none.
    let ipv4View = try probe.expectSuccess("fdb-list flannel-v6.1").array
      .compactMap { $0 as? [String: Any] }
    #expect(ipv4View.allSatisfy { $0["dst"] is NSNull })
    try probe.expectSuccess("fdb6-del flannel-v6.1 0e:00:00:00:00:16 fd00:80::3")
    #expect(try bridgeEntries() == ["0e:00:00:00:00:17 fd00:80::4 [\"self\"] permanent"])
  }

  @Test func onlinkIPv6RouteThroughTheDeviceAndRouteGet() throws {
    let (ns, probe, _) = try lab("nl-rt6vx")
    let listed = try probe.expectSuccess(
      "route6-replace fd10:0:0:16::/64 via fd10:0:0:16:: dev flannel-v6.1 onlink", "route6-list"
    ).array.compactMap { $0 as? String }
    #expect(listed.contains("fd10:0:0:16::/64 via fd10:0:0:16:: dev flannel-v6.1 onlink"))
    let ip = try ns.json("/usr/sbin/ip", ["-6", "-j", "route", "show", "fd10:0:0:16::/64"])
    #expect(ip.count == 1)
    #expect(ip.first?["gateway"] as? String == "fd10:0:0:16::")
    #expect(ip.first?["dev"] as? String == "flannel-v6.1")
    #expect((ip.first?["flags"] as? [String]) == ["onlink"])
    // route get: on the underlay's subnet no gateway; through the onlink route, one.
    #expect(
      try probe.expectSuccess("route6-get fd00:80::2").ok as? String
        == "fd00:80::2/128 dev u0")
    #expect(
      try probe.expectSuccess("route6-get fd10:0:0:16::5").ok as? String
        == "fd10:0:0:16::5/128 via fd10:0:0:16:: dev flannel-v6.1")
    try probe.expectSuccess(
      "route6-del fd10:0:0:16::/64 via fd10:0:0:16:: dev flannel-v6.1 onlink")
    #expect(try ns.json("/usr/sbin/ip", ["-6", "-j", "route", "show", "fd10:0:0:16::/64"]).isEmpty)
  }
}

extension VXLANIPv6Tests {
  @Test func ipv6AddressAddListDeleteMatchesIPAddr() throws {
    let (ns, probe, _) = try lab("nl-addr6")
    func ipAddresses() throws -> Set<String> {
      Set(
        try ns.json("/usr/sbin/ip", ["-6", "-j", "addr", "show", "dev", "flannel-v6.1"])
          .flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }
          .filter { $0["scope"] as? String == "global" }
          .map { "\($0["local"]!)/\($0["prefixlen"]!)" })
    }
    try probe.expectSuccess("addr6-add flannel-v6.1 fd10:0:0:15::/128")
    #expect(try ipAddresses() == ["fd10:0:0:15::/128"])
    let listed = try probe.expectSuccess("addr6-list flannel-v6.1").array
      .compactMap { ($0 as? [String: Any])?["address"] as? String }
    #expect(listed.contains("fd10:0:0:15::/128"))
    // Adding it again is EEXIST, as `ip -6 addr add`.
    let again = try probe.run(["addr6-add flannel-v6.1 fd10:0:0:15::/128"])
    #expect(again.first?.error?.contains("File exists") == true, "\(again.map(\.json))")
    try probe.expectSuccess("addr6-del flannel-v6.1 fd10:0:0:15::/128")
    #expect(try ipAddresses() == [])
  }
}
