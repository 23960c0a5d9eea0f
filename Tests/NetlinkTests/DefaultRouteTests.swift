import Foundation
import TestSupport
import Testing

/// `defaultRoute()` against a real kernel: the device of the main table's first IPv4 default
/// route, checked against the first default line of the namespace's /proc/net/route (which
/// interface selection read before).
@Suite struct DefaultRouteTests {
  /// Two underlay links: u0 (192.168.70.1/24) and v0 (10.9.0.1/24).
  private func lab() throws -> (ScratchNamespace, NetlinkProbe) {
    let ns = try ScratchNamespace("nl-dflt")
    let probe = NetlinkProbe(namespace: ns)
    try probe.expectSuccess(
      "veth u0 u1", "up u1", "up u0", "addr-add u0 192.168.70.1/24", "veth v0 v1", "up v1",
      "up v0", "addr-add v0 10.9.0.1/24")
    return (ns, probe)
  }

  /// The probe's answer: "none" (no default route), "*" (one without a device) or the device.
  private func probed(_ probe: NetlinkProbe) throws -> String {
    let answer = try probe.expectSuccess("route-default")
    guard answer.ok is [String: Any] else { return "none" }
    return answer.object["dev"] as? String ?? "*"
  }

  /// The Iface column of /proc/net/route's first 0.0.0.0/0 line ("*" without a device).
  private func procNetRoute(_ ns: ScratchNamespace) throws -> String {
    let text = try ns.exec("/bin/cat", ["/proc/net/route"])
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      if fields.count >= 8 && fields[1] == "00000000" && fields[7] == "00000000" {
        return String(fields[0])
      }
    }
    return "none"
  }

  @Test func firstDefaultRouteOfTheMainTable() throws {
    let (ns, probe) = try lab()
    // Another table's default route is not the host's.
    try ns.ip("route", "add", "default", "via", "10.9.0.2", "dev", "v0", "table", "100")
    #expect(try probed(probe) == "none")
    #expect(try procNetRoute(ns) == "none")

    // The lowest metric comes first, whatever the order the routes were added in.
    try ns.ip("route", "add", "default", "via", "10.9.0.2", "dev", "v0", "metric", "100")
    try ns.ip("route", "add", "default", "via", "192.168.70.2", "dev", "u0", "metric", "10")
    #expect(try probed(probe) == "u0")
    #expect(try procNetRoute(ns) == "u0")

    // A blackhole default route in front: found, without a device.
    try ns.ip("route", "add", "blackhole", "default", "metric", "5")
    #expect(try probed(probe) == "*")
    #expect(try procNetRoute(ns) == "*")
    try ns.ip("route", "del", "blackhole", "default", "metric", "5")

    // A multipath route: its first hop's device.
    try ns.ip(
      "route", "add", "default", "metric", "1", "nexthop", "via", "10.9.0.2", "dev", "v0",
      "nexthop", "via", "192.168.70.2", "dev", "u0")
    #expect(try probed(probe) == "v0")
    #expect(try procNetRoute(ns) == "v0")
  }

  /// A route through a nexthop object, with the kernel leaving the device out of the route
  /// dump (net.ipv4.nexthop_compat_mode=0, this namespace only).
  @Test func defaultRouteThroughANexthopObject() throws {
    let (ns, probe) = try lab()
    try ns.exec("/usr/sbin/sysctl", ["-qw", "net.ipv4.nexthop_compat_mode=0"])
    try ns.ip("nexthop", "add", "id", "7", "via", "10.9.0.2", "dev", "v0")
    try ns.ip("route", "add", "default", "nhid", "7")
    #expect(try probed(probe) == "v0")
    #expect(try procNetRoute(ns) == "v0")
  }
}
