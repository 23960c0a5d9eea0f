import Foundation
import Testing

/// The IPv6 rules of a dual-stack network through ip6tables, only inside a namespace of the
/// test (the keeper runs in daemon-probe under `ip netns exec`); the IPv4 tables stay empty.
@Suite struct IP6TablesNamespaceTests {
  static func rules(_ ns: OpsNamespace, _ save: String) throws -> [String] {
    try ns.run(save, []).split(separator: "\n").map(String.init)
      .filter { $0.hasPrefix("-A ") || $0.hasPrefix(":FLANNEL") }
  }

  static let expected = [
    ":FLANNEL-FWD - [0:0]",
    "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
    "-A FLANNEL-FWD -s fd10::/56 -m comment --comment \"flanneld forward\" -j ACCEPT",
    "-A FLANNEL-FWD -d fd10::/56 -m comment --comment \"flanneld forward\" -j ACCEPT",
    ":FLANNEL-POSTRTG - [0:0]",
    "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
    "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
    "-A FLANNEL-POSTRTG -s fd10:0:0:f::/64 -d fd10::/56 -m comment --comment \"flanneld masq\" -j RETURN",
    "-A FLANNEL-POSTRTG -s fd10::/56 -d fd10:0:0:f::/64 -m comment --comment \"flanneld masq\" -j RETURN",
    "-A FLANNEL-POSTRTG ! -s fd10::/56 -d fd10:0:0:f::/64 -m comment --comment \"flanneld masq\" -j RETURN",
    "-A FLANNEL-POSTRTG -s fd10::/56 ! -d ff00::/8 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
    "-A FLANNEL-POSTRTG ! -s fd10::/56 -d fd10::/56 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
  ]

  @Test func exactRulesAndRepairWithinTheResyncPeriod() async throws {
    let ns = try OpsNamespace("ip6t")
    let probe = try ProbeProcess(
      in: ns, ["ip6tables", "fd10::/56", "fd10:0:0:f::/64", "-ip-masq", "-iptables-resync=1"])
    defer { probe.stop() }
    #expect(await probe.waitForLog("ensured repaired=nat/FLANNEL-POSTRTG,filter/FLANNEL-FWD"))
    #expect(try Self.rules(ns, "ip6tables-save") == Self.expected)
    #expect(try Self.rules(ns, "iptables-save").isEmpty, "no IPv4 rule from the IPv6 keeper")

    // A rule deleted by hand is back within the 1 s period (+ slack), repaired by a pass
    // that logged it (the count proves the repair was a new one).
    func repairsLogged() -> Int {
      probe.log.components(separatedBy: "Some iptables rules are missing").count - 1
    }
    let before = repairsLogged()
    try ns.run("ip6tables", ["-t", "nat", "-D", "FLANNEL-POSTRTG", "5"])
    let repaired = try await pollUntil(timeout: .seconds(3)) {
      guard repairsLogged() > before else { return false }
      return try Self.rules(ns, "ip6tables-save") == Self.expected
    }
    #expect(repaired)
  }
}
