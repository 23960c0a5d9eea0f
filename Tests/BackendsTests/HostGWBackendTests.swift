import Foundation
import TestSupport
import Testing

/// The host-gw backend driven by backend-probe inside a namespace, read back with ip.
@Suite struct HostGWBackendTests {
  static let backend = #"{"Type":"host-gw"}"#
  static let table =
    "apply 10.1.15.0/24,192.168.100.1,host-gw 10.1.16.0/24,192.168.100.2,host-gw "
    + "10.1.17.0/24,192.168.100.3,host-gw 10.1.18.0/24,192.168.100.4,vxlan,0e:00:00:00:00:18"
  static let startup = ["prepare", "configure 10.1.15.0/24", table]

  @Test func refusesAPublicIPBehindNAT() throws {
    let lab = try BackendLab("bk-hgn")
    let (answers, _, _) = try lab.run(
      "host-gw", backend: Self.backend, publicIP: "192.168.200.9", ["prepare"])
    #expect(
      answers.first?["error"] as? String
        == "your PublicIP differs from interface IP, meaning that probably you're on a NAT, "
        + "which is not supported by host-gw backend")
  }

  @Test func programsOneRoutePerPeerOnTheExternalInterface() throws {
    let lab = try BackendLab("bk-hg")
    let (answers, logs, raw) = try lab.run("host-gw", backend: Self.backend, Self.startup)
    #expect(answers.allSatisfy { $0.keys.contains("ok") }, "\(answers)")
    #expect(raw.contains(#"{"ok":{"backendType":"host-gw","backendData":null,"mtu":1500}}"#))
    #expect(
      try lab.snapshot().routes == [
        "192.168.100.0/24 dev eth0", "10.1.16.0/24 via 192.168.100.2 dev eth0",
        "10.1.17.0/24 via 192.168.100.3 dev eth0",
      ])
    #expect(logs.contains("warning: Ignoring non-host-gw subnet(10.1.18.0/24): type=vxlan"))
  }

  @Test func restartLeavesIdenticalRoutesAndFixesTheRest() throws {
    let lab = try BackendLab("bk-hgr")
    _ = try lab.run("host-gw", backend: Self.backend, Self.startup)
    let monitor = try KernelChangeMonitor(lab.ns)
    _ = try lab.run("host-gw", backend: Self.backend, Self.startup)
    #expect(try monitor.changes() == [])

    // A differing route for a subnet is replaced; a route of a lease that is gone removed.
    try lab.ns.ip("route", "replace", "10.1.16.0/24", "via", "192.168.100.99", "dev", "eth0")
    let (_, logs, _) = try lab.run(
      "host-gw", backend: Self.backend,
      ["prepare", "configure 10.1.15.0/24", "apply 10.1.16.0/24,192.168.100.2,host-gw"])
    #expect(
      try lab.snapshot().routes == [
        "192.168.100.0/24 dev eth0", "10.1.16.0/24 via 192.168.100.2 dev eth0",
      ])
    #expect(logs.contains { $0.hasPrefix("warning: Replacing existing route to 10.1.16.0/24") })
  }

  @Test func missingRouteIsRestoredByTheCheckLoop() throws {
    let lab = try BackendLab("bk-hgl")
    let probe = try lab.start("host-gw", backend: Self.backend, Self.startup + ["hold 40"])
    defer { probe.terminate() }
    for _ in 0..<3 { _ = try probe.line { $0.hasPrefix(#"{"ok""#) } }
    try lab.ns.ip("route", "del", "10.1.16.0/24")
    #expect(!(try lab.snapshot().routes.contains("10.1.16.0/24 via 192.168.100.2 dev eth0")))
    // The check runs every 10 s.
    #expect(
      try lab.waitUntil(seconds: 15) {
        try lab.snapshot().routes.contains("10.1.16.0/24 via 192.168.100.2 dev eth0")
      })
  }
}
