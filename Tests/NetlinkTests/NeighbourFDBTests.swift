import Foundation
import TestSupport
import Testing

@Suite struct NeighbourFDBTests {
  private func lab() throws -> (ScratchNamespace, NetlinkProbe) {
    let ns = try ScratchNamespace("nl-neigh")
    let probe = NetlinkProbe(namespace: ns)
    try probe.expectSuccess(
      "veth u0 u1", "up u0", "addr-add u0 192.168.80.1/24",
      "vxlan flannel.1 vni=1 local=192.168.80.1 dev=u0", "up flannel.1")
    return (ns, probe)
  }

  @Test func permanentNeighbourReplaceListDelete() throws {
    let (ns, probe) = try lab()
    let listed = try probe.expectSuccess(
      "neigh-replace flannel.1 10.1.16.0 0e:00:00:00:00:16",
      "neigh-replace flannel.1 10.1.17.0 0e:00:00:00:00:17",
      // replace moves the existing entry to the new MAC
      "neigh-replace flannel.1 10.1.17.0 0e:00:00:00:00:18",
      "neigh-list flannel.1"
    ).array.compactMap { $0 as? [String: Any] }
    #expect(
      Set(listed.map { "\($0["ip"]!) \($0["mac"]!) \($0["permanent"]!)" }) == [
        "10.1.16.0 0e:00:00:00:00:16 1", "10.1.17.0 0e:00:00:00:00:18 1",
      ])
    let ip = try ns.json("/usr/sbin/ip", ["-4", "-j", "neigh", "show", "dev", "flannel.1"])
    #expect(
      Set(ip.map { "\($0["dst"]!) \($0["lladdr"]!) \(($0["state"] as? [String]) ?? [])" }) == [
        "10.1.16.0 0e:00:00:00:00:16 [\"PERMANENT\"]",
        "10.1.17.0 0e:00:00:00:00:18 [\"PERMANENT\"]",
      ])
    let after = try probe.expectSuccess("neigh-del flannel.1 10.1.16.0", "neigh-list flannel.1")
    #expect(after.array.count == 1)
    #expect(
      try ns.json("/usr/sbin/ip", ["-4", "-j", "neigh", "show", "dev", "flannel.1"]).count == 1)
  }

  @Test func fdbReplaceAppendDeleteMatchesBridgeFDB() throws {
    let (ns, probe) = try lab()
    func bridgeEntries() throws -> Set<String> {
      Set(
        try ns.json("/usr/sbin/bridge", ["-j", "fdb", "show", "dev", "flannel.1"]).map {
          "\($0["mac"]!) \($0["dst"] ?? "-") \(($0["flags"] as? [String]) ?? []) \($0["state"] ?? "")"
        })
    }
    let listed = try probe.expectSuccess(
      "fdb-replace flannel.1 0e:00:00:00:00:16 192.168.80.2",
      // replace for the same MAC moves its one remote
      "fdb-replace flannel.1 0e:00:00:00:00:16 192.168.80.3",
      "fdb-append flannel.1 00:00:00:00:00:00 192.168.80.4",
      "fdb-append flannel.1 00:00:00:00:00:00 192.168.80.5",
      "fdb-list flannel.1"
    ).array.compactMap { $0 as? [String: Any] }
    #expect(
      Set(listed.map { "\($0["mac"]!) \($0["dst"]!) \($0["permanent"]!) \($0["self"]!)" }) == [
        "0e:00:00:00:00:16 192.168.80.3 1 1", "00:00:00:00:00:00 192.168.80.4 1 1",
        "00:00:00:00:00:00 192.168.80.5 1 1",
      ])
    #expect(
      try bridgeEntries() == [
        "0e:00:00:00:00:16 192.168.80.3 [\"self\"] permanent",
        "00:00:00:00:00:00 192.168.80.4 [\"self\"] permanent",
        "00:00:00:00:00:00 192.168.80.5 [\"self\"] permanent",
      ])
    try probe.expectSuccess(
      "fdb-del flannel.1 0e:00:00:00:00:16 192.168.80.3",
      "fdb-del flannel.1 00:00:00:00:00:00 192.168.80.4")
    #expect(try bridgeEntries() == ["00:00:00:00:00:00 192.168.80.5 [\"self\"] permanent"])
  }
}
