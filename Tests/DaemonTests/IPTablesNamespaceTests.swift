import Daemon
import FlannelCore
import Foundation
import Logging
import Testing

/// The iptables keeper against a real kernel, only inside namespaces of the test: the
/// keeper runs in daemon-probe under `ip netns exec`.
@Suite struct IPTablesNamespaceTests {
  /// Our tables' rules from iptables-save, without comments and counters.
  static func rules(_ ns: OpsNamespace) throws -> [String] {
    try ns.run("iptables-save", []).split(separator: "\n").map(String.init)
      .filter { $0.hasPrefix("-A ") || $0.hasPrefix(":FLANNEL") }
  }

  static func expected(network: String, subnet: String) -> [String] {
    [
      ":FLANNEL-FWD - [0:0]",
      "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
      "-A FLANNEL-FWD -s \(network) -m comment --comment \"flanneld forward\" -j ACCEPT",
      "-A FLANNEL-FWD -d \(network) -m comment --comment \"flanneld forward\" -j ACCEPT",
      ":FLANNEL-POSTRTG - [0:0]",
      "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
      "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
      "-A FLANNEL-POSTRTG -s \(subnet) -d \(network) -m comment --comment \"flanneld masq\" -j RETURN",
      "-A FLANNEL-POSTRTG -s \(network) -d \(subnet) -m comment --comment \"flanneld masq\" -j RETURN",
      "-A FLANNEL-POSTRTG ! -s \(network) -d \(subnet) -m comment --comment \"flanneld masq\" -j RETURN",
      "-A FLANNEL-POSTRTG -s \(network) ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
      "-A FLANNEL-POSTRTG ! -s \(network) -d \(network) -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
    ]
  }

  @Test func exactRulesAfterStartupAndRepairWithinTheResyncPeriod() async throws {
    let ns = try OpsNamespace("ipt")
    // Someone else's rule first in POSTROUTING: ours goes before it, theirs stays.
    try ns.run(
      "iptables", ["-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "-j", "MASQUERADE"])
    let probe = try ProbeProcess(
      in: ns, ["iptables", "10.1.0.0/16", "10.1.15.0/24", "-ip-masq", "-iptables-resync=1"])
    #expect(await probe.waitForLog("ensured repaired=nat/FLANNEL-POSTRTG,filter/FLANNEL-FWD"))
    let want = Self.expected(network: "10.1.0.0/16", subnet: "10.1.15.0/24")
    let foreign = "-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE"
    var got = try Self.rules(ns)
    #expect(got.filter { $0 != foreign } == want)
    #expect(got.firstIndex(of: want[5])! < got.firstIndex(of: foreign)!)

    // Damage by hand, one kind at a time; each is back within the 1 s period (+ slack).
    let damages: [[String]] = [
      ["-t", "nat", "-D", "FLANNEL-POSTRTG", "3"],
      [
        "-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "flanneld masq", "-j",
        "FLANNEL-POSTRTG",
      ],
      ["-t", "filter", "-F", "FLANNEL-FWD"],
      ["-t", "nat", "-I", "FLANNEL-POSTRTG", "1", "-s", "10.9.0.0/16", "-j", "RETURN"],
    ]
    // The probe logs one "Some iptables rules are missing" per repaired chain set: a new
    // one after each damage proves the repair was ours (the check itself may run before
    // the test gets to look at the damaged state).
    func repairsLogged() -> Int {
      probe.log.components(separatedBy: "Some iptables rules are missing").count - 1
    }
    for damage in damages {
      let before = repairsLogged()
      let clock = ContinuousClock()
      let start = clock.now
      try ns.run("iptables", damage)
      let repaired = try await pollUntil(timeout: .seconds(3)) {
        guard repairsLogged() > before else { return false }
        return try Self.rules(ns).filter { $0 != foreign } == want
      }
      #expect(repaired, "after \(damage)")
      #expect(clock.now - start < .milliseconds(2500), "after \(damage)")
    }
    got = try Self.rules(ns)
    #expect(got.contains(foreign))
    probe.stop()
    // Left in place on exit.
    #expect(try Self.rules(ns).filter { $0 != foreign } == want)
  }

  @Test func restartWithAnotherNetworkReplacesTheOldRules() async throws {
    let ns = try OpsNamespace("iptnet")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ops-subnet-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let subnetFile = directory.appendingPathComponent("subnet.env").path
    let first = try ProbeProcess(
      in: ns,
      ["iptables", "10.1.0.0/16", "10.1.15.0/24", "-ip-masq", "-subnet-file=\(subnetFile)"])
    #expect(await first.waitForLog("ensured repaired="))
    first.stop()
    try
      "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.15.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n"
      .write(toFile: subnetFile, atomically: true, encoding: .utf8)
    // An older flannel's rule of the old network, straight in POSTROUTING.
    try ns.run(
      "iptables",
      [
        "-t", "nat", "-A", "POSTROUTING", "-s", "10.1.0.0/16", "-d", "10.1.0.0/16", "-m", "comment",
        "--comment", "flanneld masq", "-j", "RETURN",
      ])

    let second = try ProbeProcess(
      in: ns,
      ["iptables", "10.2.0.0/16", "10.2.3.0/24", "-ip-masq", "-subnet-file=\(subnetFile)"])
    #expect(await second.waitForLog("ensured repaired=nat/FLANNEL-POSTRTG,filter/FLANNEL-FWD"))
    #expect(
      second.log.contains("Previous FLANNEL_NETWORK 10.1.0.0/16, FLANNEL_SUBNET 10.1.15.1/24"))
    let got = try Self.rules(ns)
    #expect(got == Self.expected(network: "10.2.0.0/16", subnet: "10.2.3.0/24"))
    #expect(!got.contains { $0.contains("10.1.") })
    second.stop()
  }

  @Test func newLeaseSubnetReplacesTheRules() throws {
    let ns = try OpsNamespace("iptlease")
    let output = try ns.run(
      DaemonProbe.binary,
      ["iptables-update", "10.6.0.0/16", "10.6.1.0/24", "10.6.0.0/16", "10.6.9.0/24", "-ip-masq"])
    #expect(
      output
        == "first repaired=nat/FLANNEL-POSTRTG,filter/FLANNEL-FWD\nsecond repaired=nat/FLANNEL-POSTRTG\n"
    )
    #expect(try Self.rules(ns) == Self.expected(network: "10.6.0.0/16", subnet: "10.6.9.0/24"))
  }

  @Test func secondPassFindsNothingToRepair() async throws {
    let ns = try OpsNamespace("iptidle")
    let probe = try ProbeProcess(
      in: ns,
      [
        "iptables", "10.3.0.0/16", "10.3.1.0/24", "-ip-masq", "-ip-masq-fully-random-disable",
        "-iptables-resync=1",
      ])
    #expect(await probe.waitForLog("ensured repaired=nat/FLANNEL-POSTRTG,filter/FLANNEL-FWD"))
    let want = Self.expected(network: "10.3.0.0/16", subnet: "10.3.1.0/24")
      .map { $0.replacingOccurrences(of: " --random-fully", with: "") }
    #expect(try Self.rules(ns) == want)
    // The resync passes that follow find everything in place: three of them, no repair.
    #expect(
      await probe.waitForLog(
        "pass repaired=\npass repaired=\npass repaired=\npass repaired=\n"))
    #expect(probe.log.components(separatedBy: "Some iptables rules are missing").count - 1 == 2)
    probe.stop()
  }

  @Test func forwardRulesOnlyWithoutIPMasq() async throws {
    let ns = try OpsNamespace("iptfwd")
    let probe = try ProbeProcess(in: ns, ["iptables", "10.4.0.0/16", "10.4.1.0/24"])
    #expect(await probe.waitForLog("ensured repaired=filter/FLANNEL-FWD"))
    #expect(
      try Self.rules(ns) == Array(Self.expected(network: "10.4.0.0/16", subnet: "-").prefix(4)))
    probe.stop()
  }

  /// No iptables binary: a clear error, and the resync loop ends instead of spinning.
  @Test func missingBinaryIsAClearErrorAndTheLoopEnds() async throws {
    let commands = IPTablesCommands(searchPath: "/nonexistent-ops-path")
    let keeper = IPTablesKeeper(
      chainSets: [FlannelIPTablesRules.forward(network: IPv4Network("10.5.0.0/16")!)],
      commands: commands, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    let error = await #expect(throws: IPTablesError.self) { try await keeper.ensure() }
    #expect(error == .binaryNotFound(name: "iptables-save", path: "/nonexistent-ops-path"))
    #expect(
      error?.description.hasPrefix("Failed to setup IPTables. iptables binary was not found")
        == true)
    // The loop must end by itself; were it to spin, the watchdog stops it after 5 s and
    // the pass count shows it.
    let finished = Task { await keeper.run(every: .milliseconds(10)) }
    let watchdog = Task {
      try? await Task.sleep(for: .seconds(5))
      finished.cancel()
    }
    await finished.value
    watchdog.cancel()
    #expect(await keeper.passes == 2)
  }
}
