import Foundation
import TestSupport
import Testing

/// The vxlan backend driven by backend-probe inside a namespace, read back with ip/bridge.
@Suite struct VXLANBackendTests {
  static let mac16 = "0e:00:00:00:00:16"
  static let mac18 = "0e:00:00:00:00:18"
  static let mac19 = "0e:00:00:00:00:19"
  /// Own lease, two vxlan peers (one on the underlay subnet, one beyond it), one host-gw.
  static let table =
    "apply 10.1.15.0/24,192.168.100.1,vxlan,0e:00:00:00:00:15 "
    + "10.1.16.0/24,192.168.100.2,vxlan,\(mac16) 10.1.17.0/24,192.168.100.3,host-gw "
    + "10.1.18.0/24,10.99.0.3,vxlan,\(mac18)"
  static let startup = ["prepare", "configure 10.1.15.0/24", table]

  @Test func programsDeviceAddressAndEntriesExactly() throws {
    let lab = try BackendLab("bk-vx")
    let (answers, logs, raw) = try lab.run("vxlan", Self.startup)
    #expect(answers.allSatisfy { $0.keys.contains("ok") }, "\(answers)")
    let prepared = try #require(answers.first?["ok"] as? [String: Any])
    let s = try lab.snapshot()
    let mac = try #require(s.device.split(separator: " ").dropFirst().first.map(String.init))
    // BackendData exactly as stock HEAD writes it, members in this order.
    #expect(raw.contains(#""backendData":{"VNI":1,"VtepMAC":"\#(mac)"}"#))
    #expect(prepared["backendType"] as? String == "vxlan")
    #expect(prepared["mtu"] as? Int == 1450)
    let index = try #require(s.device.split(separator: " ").first)
    #expect(
      s.device
        == "\(index) \(mac) mtu 1450 up id 1 local 192.168.100.1 link eth0 port 8472 learning 0 gbp false"
    )
    #expect(s.addresses == ["10.1.15.0/32"])
    #expect(
      s.routes == [
        "192.168.100.0/24 dev eth0", "10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink",
        "10.1.18.0/24 via 10.1.18.0 dev flannel.1 onlink",
      ])
    #expect(
      s.neighbours == ["10.1.16.0 \(Self.mac16) PERMANENT", "10.1.18.0 \(Self.mac18) PERMANENT"])
    #expect(
      s.fdb == [
        "\(Self.mac16) dst 192.168.100.2 permanent", "\(Self.mac18) dst 10.99.0.3 permanent",
      ])
    #expect(logs.contains("warning: Ignoring non-vxlan subnet(10.1.17.0/24): type=host-gw"))
  }

  @Test func restartTakesOverWithoutChangingAnEntryThenFollowsTheTable() throws {
    let lab = try BackendLab("bk-vxr")
    _ = try lab.run("vxlan", Self.startup)
    let before = try lab.snapshot()
    let monitor = try KernelChangeMonitor(lab.ns)
    let (answers, logs, _) = try lab.run("vxlan", Self.startup)
    #expect(answers.allSatisfy { $0.keys.contains("ok") })
    let changes = try monitor.changes()
    #expect(changes == [], "logs: \(logs)")
    #expect(try lab.snapshot() == before)

    // The next run's table lost 10.1.16.0/24 and gained 10.1.19.0/24.
    _ = try lab.run(
      "vxlan",
      [
        "prepare", "configure 10.1.15.0/24",
        "apply 10.1.18.0/24,10.99.0.3,vxlan,\(Self.mac18) 10.1.19.0/24,192.168.100.9,vxlan,\(Self.mac19)",
      ])
    let after = try lab.snapshot()
    #expect(after.device == before.device)
    #expect(
      after.routes == [
        "192.168.100.0/24 dev eth0", "10.1.18.0/24 via 10.1.18.0 dev flannel.1 onlink",
        "10.1.19.0/24 via 10.1.19.0 dev flannel.1 onlink",
      ])
    #expect(
      after.neighbours == [
        "10.1.18.0 \(Self.mac18) PERMANENT", "10.1.19.0 \(Self.mac19) PERMANENT",
      ])
    #expect(
      after.fdb == [
        "\(Self.mac18) dst 10.99.0.3 permanent", "\(Self.mac19) dst 192.168.100.9 permanent",
      ])
  }

  @Test func incompatibleDeviceIsRecreatedAndStrayAddressesRemoved() throws {
    let lab = try BackendLab("bk-vxi")
    try lab.ns.ip(
      "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", "192.168.100.7", "dev",
      "eth0")
    try lab.ns.ip(
      "link", "add", "flannel.2", "type", "vxlan", "id", "2", "dstport", "8472", "dev", "eth0")
    try lab.ns.ip("addr", "add", "10.1.99.0/32", "dev", "flannel.2")
    try lab.ns.ip("addr", "add", "192.168.5.5/32", "dev", "flannel.2")
    let (_, logs1, _) = try lab.run("vxlan", ["prepare", "configure 10.1.15.0/24"])
    #expect(
      logs1.contains {
        $0.hasPrefix(
          "warning: flannel.1 already exists with incompatible configuration: local 192.168.100.7")
          && $0.hasSuffix("; recreating device")
      })
    #expect(try lab.snapshot().device.contains("local 192.168.100.1 link eth0"))

    // A compatible device is reused: same index; addresses inside the Network replaced.
    let before = try lab.snapshot(device: "flannel.2")
    let (_, logs2, _) = try lab.run(
      "vxlan", backend: #"{"Type":"vxlan","VNI":2}"#, ["prepare", "configure 10.1.15.0/24"])
    #expect(!logs2.contains { $0.contains("incompatible") })
    let after = try lab.snapshot(device: "flannel.2")
    #expect(after.device.split(separator: " ").first == before.device.split(separator: " ").first)
    #expect(after.addresses == ["10.1.15.0/32", "192.168.5.5/32"])
  }

  @Test func failedRouteRollsBackNeighbourAndFDBAndIsRetried() throws {
    let lab = try BackendLab("bk-vxf")
    // The kernel refuses a gateway that is a local address: the route step fails after
    // the neighbour and FDB steps succeeded.
    try lab.ns.ip("link", "set", "lo", "up")
    try lab.ns.ip("addr", "add", "10.1.16.0/32", "dev", "lo")
    let probe = try lab.start(
      "vxlan",
      Self.startup.dropLast() + ["apply 10.1.16.0/24,192.168.100.2,vxlan,\(Self.mac16)", "hold 30"])
    defer { probe.terminate() }
    let failure = try probe.line { $0.contains("Failed to program subnet 10.1.16.0/24") }
    #expect(
      failure?.contains("Nexthop has invalid gateway") == true
        || failure?.contains("Invalid argument") == true)
    #expect(try probe.line { $0 == #"{"ok":null}"# && true } != nil)  // apply answered
    let rolledBack = try lab.snapshot()
    #expect(rolledBack.neighbours.isEmpty && rolledBack.fdb.isEmpty)
    #expect(!rolledBack.routes.contains { $0.hasPrefix("10.1.16.0/24") })

    try lab.ns.ip("addr", "del", "10.1.16.0/32", "dev", "lo")
    #expect(
      try lab.waitUntil(seconds: 15) {
        try lab.snapshot().routes.contains("10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink")
      })
    let retried = try lab.snapshot()
    #expect(retried.neighbours == ["10.1.16.0 \(Self.mac16) PERMANENT"])
    #expect(retried.fdb == ["\(Self.mac16) dst 192.168.100.2 permanent"])
  }

  @Test func deletedDeviceIsRecreatedWithItsEntries() throws {
    let lab = try BackendLab("bk-vxd")
    let probe = try lab.start("vxlan", Self.startup + ["hold 60"])
    defer { probe.terminate() }
    for _ in 0..<3 { _ = try probe.line { $0.hasPrefix(#"{"ok""#) } }
    let before = try lab.snapshot()
    try lab.ns.ip("link", "del", "flannel.1")
    #expect(
      try lab.waitUntil(seconds: 15) {
        let now = try lab.snapshot()
        return now.routes == before.routes && now.fdb == before.fdb
      })
    let after = try lab.snapshot()
    // Same MAC (the one in our lease), new ifindex; address, neighbours, FDB all back.
    #expect(
      after.device.split(separator: " ").dropFirst()
        == before.device.split(separator: " ").dropFirst())
    #expect(after.addresses == before.addresses && after.neighbours == before.neighbours)
  }

  @Test func directRoutingUsesAPlainRouteForPeersOnTheSameNetwork() throws {
    let lab = try BackendLab("bk-vxdr")
    let (answers, _, _) = try lab.run(
      "vxlan", backend: #"{"Type":"vxlan","DirectRouting":true}"#, Self.startup)
    #expect(answers.allSatisfy { $0.keys.contains("ok") })
    let s = try lab.snapshot()
    #expect(
      s.routes == [
        "192.168.100.0/24 dev eth0", "10.1.16.0/24 via 192.168.100.2 dev eth0",
        "10.1.18.0/24 via 10.1.18.0 dev flannel.1 onlink",
      ])
    #expect(s.neighbours == ["10.1.18.0 \(Self.mac18) PERMANENT"])
    #expect(s.fdb == ["\(Self.mac18) dst 10.99.0.3 permanent"])
  }
}
