import FlannelCore
import Foundation
import TestSupport
import Testing

/// The real binary against a real etcd. It advertises 127.0.0.1 (the interface that owns it
/// is lo), so nothing outside loopback is touched; the namespace lab is in Scripts/.
@Suite struct FlanneldEndToEndTests {
  func tempDir() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "flanneld-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }

  func arguments(_ etcd: EtcdServer, prefix: String, subnetFile: URL) -> [String] {
    [
      "-etcd-endpoints=\(etcd.endpoint)", "-etcd-prefix", prefix, "-public-ip=127.0.0.1",
      "--subnet-file=\(subnetFile.path)",
    ]
  }

  @Test func malformedConfigIsReportedAndRetriedThenTheNodeComesUpWhenFixed() async throws {
    let etcd = try await offPool { try EtcdServer() }
    defer { etcd.stop() }
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let subnetFile = dir.appendingPathComponent("run/flannel/subnet.env")
    try etcd.etcdctl([
      "put", "/e2e/network/config", #"{"Network": "10.7.0.0/16", "Backend": {"Type": "udp"}"#,
    ])
    let node = try FlanneldProcess(arguments(etcd, prefix: "/e2e/network", subnetFile: subnetFile))
    #expect(await node.waitForLog("Couldn't fetch network config: /e2e/network/config (etcd v3)"))
    #expect(node.process.isRunning, "a bad config must not crash the daemon")
    #expect(!FileManager.default.fileExists(atPath: subnetFile.path))

    try etcd.etcdctl([
      "put", "/e2e/network/config", #"{"Network": "10.7.0.0/16", "Backend": {"Type": "udp"}}"#,
    ])
    #expect(
      await poll(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: subnetFile.path) })
    let env = try String(contentsOf: subnetFile, encoding: .utf8)
    let lines = env.split(separator: "\n").map(String.init)
    #expect(lines.count == 4)
    #expect(lines.first == "FLANNEL_NETWORK=10.7.0.0/16")
    #expect(lines[1].hasPrefix("FLANNEL_SUBNET=10.7.") && lines[1].hasSuffix(".1/24"))
    #expect(lines[2] == "FLANNEL_MTU=\(65536 - 28)")
    #expect(lines[3] == "FLANNEL_IPMASQ=false")
    let attributes = try FileManager.default.attributesOfItem(atPath: subnetFile.path)
    #expect((attributes[.posixPermissions] as? Int) == 0o644)
    #expect(await node.terminate() == 0)
    #expect(node.log.contains("Exiting cleanly..."))
  }

  /// A Backend member of the wrong JSON type (Go's decoder refuses it) is a bad config like
  /// any other: reported with the field and the fix, and read again, not a crash or a default.
  @Test func aBackendFieldOfTheWrongTypeIsReportedAndRetried() async throws {
    let etcd = try await offPool { try EtcdServer() }
    defer { etcd.stop() }
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let subnetFile = dir.appendingPathComponent("subnet.env")
    try etcd.etcdctl([
      "put", "/typed/network/config",
      #"{"Network": "10.9.0.0/16", "Backend": {"Type": "udp", "Port": "7890"}}"#,
    ])
    let node = try FlanneldProcess(
      arguments(etcd, prefix: "/typed/network", subnetFile: subnetFile))
    #expect(
      await node.waitForLog(
        #"Backend.Port is "7890" (string); write a whole number without quotes"#))
    #expect(node.process.isRunning, "a bad config must not crash the daemon")
    #expect(!FileManager.default.fileExists(atPath: subnetFile.path))

    // Read again every second: once the field is fixed, the node comes up.
    try etcd.etcdctl([
      "put", "/typed/network/config",
      #"{"Network": "10.9.0.0/16", "Backend": {"Type": "udp", "Port": 7890}}"#,
    ])
    #expect(
      await poll(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: subnetFile.path) })
    #expect(node.log.contains("Network config is usable now"))
    #expect(await node.terminate() == 0)
  }

  /// An IPv6-only config on a backend that does not run one, and a dual-stack one on a
  /// backend that carries IPv4 only (wireguard both times; host-gw and vxlan carry both),
  /// are refused with the reason and read again; once the config is
  /// one the node runs, it comes up.
  @Test func dualStackAndIPv6OnlyConfigsAreRefusedAndRetried() async throws {
    let etcd = try await offPool { try EtcdServer() }
    defer { etcd.stop() }
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let subnetFile = dir.appendingPathComponent("subnet.env")
    try etcd.etcdctl([
      "put", "/v6/network/config",
      #"{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fc00::/48", "Backend": {"Type": "wireguard"}}"#,
    ])
    let node = try FlanneldProcess(arguments(etcd, prefix: "/v6/network", subnetFile: subnetFile))
    #expect(
      await node.waitForLog(
        "EnableIPv4 is false (an IPv6-only network), but the wireguard backend"))
    try etcd.etcdctl([
      "put", "/v6/network/config",
      #"{"Network": "10.6.0.0/16", "EnableIPv6": true, "IPv6Network": "fc00::/48", "Backend": {"Type": "wireguard"}}"#,
    ])
    #expect(
      await node.waitForLog(
        "EnableIPv6 is set (IPv6Network fc00::/48), but the wireguard backend of this flanneld"))
    #expect(node.process.isRunning, "a config we cannot honour is retried, not a crash")
    #expect(!FileManager.default.fileExists(atPath: subnetFile.path))

    try etcd.etcdctl([
      "put", "/v6/network/config", #"{"Network": "10.6.0.0/16", "Backend": {"Type": "host-gw"}}"#,
    ])
    #expect(
      await poll(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: subnetFile.path) })
    let env = try String(contentsOf: subnetFile, encoding: .utf8)
    #expect(env.hasPrefix("FLANNEL_NETWORK=10.6.0.0/16\nFLANNEL_SUBNET=10.6."))
    #expect(await node.terminate() == 0)
  }

  @Test func missingConfigShowsBothPlacesAndBothCommands() async throws {
    let etcd = try await offPool { try EtcdServer() }
    defer { etcd.stop() }
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let node = try FlanneldProcess(
      arguments(
        etcd, prefix: "/coreos.com/network", subnetFile: dir.appendingPathComponent("s.env")))
    #expect(
      await node.waitForLog("etcdctl --endpoints=\(etcd.endpoint) put /coreos.com/network/config"))
    #expect(
      node.log.contains("curl -X PUT \(etcd.endpoint)/v2/keys/coreos.com/network/config -d value="))
    #expect(await node.terminate(signal: SIGINT) == 0)
  }

  @Test func aRestartedNodeKeepsItsSubnetAndTheEnvironmentSuppliesFlags() async throws {
    let etcd = try await offPool { try EtcdServer() }
    defer { etcd.stop() }
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let subnetFile = dir.appendingPathComponent("subnet.env")
    try etcd.etcdctl([
      "put", "/env/network/config", #"{"Network": "10.8.0.0/16", "Backend": {"Type": "host-gw"}}"#,
    ])
    // As a systemd EnvironmentFile would: every flag from FLANNELD_* variables.
    let environment = [
      "FLANNELD_ETCD_ENDPOINTS": etcd.endpoint, "FLANNELD_ETCD_PREFIX": "/env/network",
      "FLANNELD_PUBLIC_IP": "127.0.0.1", "FLANNELD_SUBNET_FILE": subnetFile.path,
      "FLANNELD_IP_MASQ": "true",
    ]
    let first = try FlanneldProcess([], environment: environment)
    #expect(
      await poll(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: subnetFile.path) })
    let before = try String(contentsOf: subnetFile, encoding: .utf8)
    #expect(before.contains("FLANNEL_MTU=65536\n"))
    #expect(before.contains("FLANNEL_IPMASQ=true\n"))
    #expect(await first.terminate() == 0)

    try FileManager.default.removeItem(at: subnetFile)
    let second = try FlanneldProcess([], environment: environment)
    #expect(
      await poll(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: subnetFile.path) })
    #expect(try String(contentsOf: subnetFile, encoding: .utf8) == before)
    #expect(second.log.contains("for current IP (127.0.0.1), reusing"))
    #expect(await second.terminate() == 0)
  }

  @Test(arguments: [
    (["-etcd-api=v4"], "-etcd-api"),
    (
      ["-subnet-lease-renew-margin=0"],
      "Invalid subnet-lease-renew-margin option, out of acceptable range"
    ),
    (["-no-such-flag"], "flag provided but not defined: -no-such-flag"),
    (["-etcd-endpoints"], "flag needs an argument: -etcd-endpoints"),
    (["-kube-subnet-mgr"], "-kube-subnet-mgr: this flanneld leases subnets from etcd only"),
  ])
  func badFlagsExitWithTheReason(arguments: [String], text: String) async throws {
    let node = try FlanneldProcess(arguments)
    #expect(await node.waitForExit() == 2)
    #expect(node.log.contains(text))
    #expect(node.log.contains("Usage:"))
  }

  @Test func versionAndHelpExitZero() async throws {
    let version = try FlanneldProcess(["-version"])
    #expect(await version.waitForExit() == 0)
    #expect(version.log.hasPrefix("v"))
    let help = try FlanneldProcess(["-h"])
    #expect(await help.waitForExit() == 0)
    #expect(help.log.contains("-etcd-endpoints"))
  }
}
