import Foundation
import TestSupport
import Testing

@Suite struct AddressRouteTests {
  @Test func addressAddListDeleteMatchesIPAddr() throws {
    let ns = try ScratchNamespace("nl-addr")
    let probe = NetlinkProbe(namespace: ns)
    let listed =
      try probe.expectSuccess(
        "veth a0 a1", "addr-add a0 192.168.60.1/24", "addr-add a0 10.1.15.0/32", "addr-list a0"
      ).array as? [String]
    #expect(Set(listed ?? []) == ["192.168.60.1/24", "10.1.15.0/32"])
    func ipAddresses() throws -> Set<String> {
      let info = try ns.json("/usr/sbin/ip", ["-4", "-j", "addr", "show", "dev", "a0"]).first
      let addresses = info?["addr_info"] as? [[String: Any]] ?? []
      return Set(addresses.map { "\($0["local"] ?? "")/\($0["prefixlen"] ?? "")" })
    }
    #expect(try ipAddresses() == ["192.168.60.1/24", "10.1.15.0/32"])
    let after = try probe.expectSuccess("addr-del a0 192.168.60.1/24", "addr-list a0").array
    #expect(after as? [String] == ["10.1.15.0/32"])
    #expect(try ipAddresses() == ["10.1.15.0/32"])
  }

  /// A lab with an underlay (u0, 192.168.70.1/24) and a vxlan device flannel.1.
  private func lab() throws -> (ScratchNamespace, NetlinkProbe) {
    let ns = try ScratchNamespace("nl-route")
    let probe = NetlinkProbe(namespace: ns)
    try probe.expectSuccess(
      "veth u0 u1", "up u1", "up u0", "addr-add u0 192.168.70.1/24",
      "vxlan flannel.1 vni=1 local=192.168.70.1 dev=u0", "up flannel.1",
      "addr-add flannel.1 10.1.15.0/32")
    return (ns, probe)
  }

  /// `ip -j route` entries as "dst via gw dev d [onlink]" strings.
  private func ipRoutes(_ ns: ScratchNamespace) throws -> Set<String> {
    Set(
      try ns.json("/usr/sbin/ip", ["-4", "-j", "route"]).map { route in
        var text = "\(route["dst"] ?? "")"
        if let gateway = route["gateway"] { text += " via \(gateway)" }
        text += " dev \(route["dev"] ?? "")"
        if (route["flags"] as? [String])?.contains("onlink") == true { text += " onlink" }
        return text
      })
  }

  @Test func routeReplaceListDeleteMatchesIPRoute() throws {
    let (ns, probe) = try lab()
    let listed = try probe.expectSuccess(
      "route-replace 10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink",
      "route-replace 10.1.17.0/24 via 192.168.70.2",
      "route-replace 10.1.18.0/24 dev u0 scope link",
      "route-list"
    ).array.compactMap { ($0 as? [String: Any])?["text"] as? String }
    let expected: Set<String> = [
      "10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink",
      "10.1.17.0/24 via 192.168.70.2 dev u0",
      "10.1.18.0/24 dev u0 scope link",
      "192.168.70.0/24 dev u0 scope link",
    ]
    #expect(Set(listed) == expected)
    #expect(
      try ipRoutes(ns) == [
        "10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink", "10.1.17.0/24 via 192.168.70.2 dev u0",
        "10.1.18.0/24 dev u0", "192.168.70.0/24 dev u0",
      ])

    // Replace swaps the one route for 10.1.17.0/24 instead of adding a second.
    try probe.expectSuccess("route-replace 10.1.17.0/24 via 192.168.70.3")
    #expect(
      try ipRoutes(ns).filter { $0.hasPrefix("10.1.17.") } == [
        "10.1.17.0/24 via 192.168.70.3 dev u0"
      ])

    try probe.expectSuccess(
      "route-del 10.1.16.0/24 via 10.1.16.0 dev flannel.1", "route-del 10.1.17.0/24",
      "route-del 10.1.18.0/24 dev u0")
    #expect(try ipRoutes(ns) == ["192.168.70.0/24 dev u0"])
  }

  @Test func routeGetTellsDirectFromGatewayed() throws {
    let (_, probe) = try lab()
    let answers = try probe.run([
      "route-replace 10.1.17.0/24 via 192.168.70.2", "route-get 192.168.70.9",
      "route-get 10.1.17.5",
    ])
    let direct = answers[1].object
    #expect(direct["gateway"] is NSNull)
    #expect((direct["text"] as? String)?.hasSuffix("dev u0") == true)
    #expect(answers[2].object["gateway"] as? String == "192.168.70.2")
  }

  struct ErrorCase: Sendable, CustomStringConvertible {
    let setup: [String]
    let command: String
    let message: String
    var description: String { command }
  }

  static let errorCases = [
    ErrorCase(
      setup: [], command: "route-replace 10.1.16.0/24 via 10.1.16.0 dev flannel.1",
      message: "route replace 10.1.16.0/24 via 10.1.16.0 dev flannel.1: Network is unreachable"),
    ErrorCase(
      setup: [], command: "route-replace 10.1.16.0/24 via 10.9.9.9",
      message: "route replace 10.1.16.0/24 via 10.9.9.9: Network is unreachable"),
    ErrorCase(
      setup: [], command: "route-del 10.1.99.0/24 via 10.1.99.0 dev flannel.1",
      message: "route delete 10.1.99.0/24 via 10.1.99.0 dev flannel.1: No such process"),
    ErrorCase(
      setup: [], command: "addr-add flannel.1 10.1.15.0/32",
      message: "address add 10.1.15.0/32 dev flannel.1: File exists"),
    ErrorCase(
      setup: [], command: "vxlan flannel.1 vni=1",
      message: "link add flannel.1 type vxlan id 1: File exists"),
    ErrorCase(
      setup: [], command: "neigh-del flannel.1 10.1.44.0",
      message: "neighbour delete 10.1.44.0 dev flannel.1: No such file or directory"),
    ErrorCase(
      setup: [], command: "fdb-del flannel.1 0e:00:00:00:00:09 192.168.70.9",
      message:
        "fdb delete 0e:00:00:00:00:09 dev flannel.1 dst 192.168.70.9: No such file or directory"),
  ]

  @Test(arguments: errorCases)
  func errorsNameOperationObjectAndErrno(_ c: ErrorCase) throws {
    let (_, probe) = try lab()
    let answers = try probe.run(c.setup + [c.command])
    #expect(answers.last?.error == c.message)
  }
}
