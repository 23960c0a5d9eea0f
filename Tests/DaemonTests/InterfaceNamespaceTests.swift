import Testing

/// Interface selection against a real kernel: veth pairs and addresses in a namespace of
/// the test, selection run by daemon-probe under `ip netns exec`.
@Suite struct InterfaceNamespaceTests {
  /// va0: two addresses; vc0: the default route; vb0 and vd0: up, no IPv4; ve0: link-local
  /// only; vg0: reached through a /24 of its own. MTUs differ so the MTU is checked too.
  static func lab() throws -> OpsNamespace {
    let ns = try OpsNamespace("iface")
    try ns.ip(
      """
      link add va0 type veth peer name vb0
      link add vc0 mtu 1400 type veth peer name vd0
      link add ve0 type veth peer name vf0
      link add vg0 mtu 9000 type veth peer name vh0
      addr add 10.20.0.1/24 dev va0
      addr add 10.20.0.9/24 dev va0
      addr add 192.168.77.1/24 dev vc0
      addr add 169.254.10.1/16 dev ve0
      addr add 10.30.0.5/24 dev vg0
      link set va0 up
      link set vb0 up
      link set vc0 up
      link set vd0 up
      link set ve0 up
      link set vf0 up
      link set vg0 up
      link set vh0 up
      route add default via 192.168.77.2 dev vc0
      route add 10.40.0.0/16 via 10.30.0.1 dev vg0
      """)
    return ns
  }

  static let cases: [(flags: [String], expected: String)] = [
    ([], "vc0 192.168.77.1 192.168.77.1 1400"),
    (["-iface=va0"], "va0 10.20.0.1 10.20.0.1 1500"),
    (["-iface=10.20.0.9"], "va0 10.20.0.9 10.20.0.9 1500"),
    (["-iface=nope", "-iface=vb0", "-iface=vg0", "-iface=va0"], "vg0 10.30.0.5 10.30.0.5 9000"),
    (["-iface=ve0"], "ve0 169.254.10.1 169.254.10.1 1500"),
    (["-iface-regex=^10\\.20\\.0\\.9$"], "va0 10.20.0.9 10.20.0.9 1500"),
    (["-iface-regex=zzz", "-iface-regex=^vg"], "vg0 10.30.0.5 10.30.0.5 9000"),
    (["-iface=nope", "-iface-regex=192\\.168"], "vc0 192.168.77.1 192.168.77.1 1400"),
    (["-iface-can-reach=10.40.3.3"], "vg0 10.30.0.5 10.30.0.5 9000"),
    (["-iface-can-reach=10.20.0.77"], "va0 10.20.0.1 10.20.0.1 1500"),
    (["-iface-can-reach=8.8.8.8"], "vc0 192.168.77.1 192.168.77.1 1400"),
    (["-public-ip=10.30.0.5"], "vg0 10.30.0.5 10.30.0.5 9000"),
    (["-iface=va0", "-public-ip=203.0.113.7"], "va0 10.20.0.1 203.0.113.7 1500"),
  ]

  @Test func selectsInANamespace() throws {
    let ns = try Self.lab()
    for c in Self.cases {
      let output = try ns.run(DaemonProbe.binary, ["select"] + c.flags)
      let fields = output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        .reduce(into: [String: String]()) { map, field in
          let pair = field.split(separator: "=", maxSplits: 1)
          if pair.count == 2 { map[String(pair[0])] = String(pair[1]) }
        }
      let got = [fields["name"], fields["address"], fields["public"], fields["mtu"]]
        .map { $0 ?? "?" }.joined(separator: " ")
      #expect(got == c.expected, "flags \(c.flags)")
    }
  }

  @Test(arguments: [
    (["-iface=vb0"], "failed to find IPv4 address for interface vb0"),
    (["-iface=nope", "-iface-regex=^zz"], "Could not match pattern ^zz"),
    (["-public-ip=203.0.113.7"], "no local interface has the -public-ip address 203.0.113.7"),
  ])
  func refusesInANamespace(flags: [String], message: String) throws {
    let ns = try Self.lab()
    let error = #expect(throws: (any Error).self) {
      try ns.run(DaemonProbe.binary, ["select"] + flags)
    }
    #expect("\(error.map { "\($0)" } ?? "")".contains(message))
  }

  @Test func noDefaultRoute() throws {
    let ns = try OpsNamespace("noroute")
    try ns.ip(
      """
      link add va0 type veth peer name vb0
      addr add 10.20.0.1/24 dev va0
      link set va0 up
      """)
    let error = #expect(throws: (any Error).self) {
      try ns.run(DaemonProbe.binary, ["select"])
    }
    #expect("\(error.map { "\($0)" } ?? "")".contains("no IPv4 default route"))
    // -iface-can-reach without any route to the target fails the same way stock does.
    let unreachable = #expect(throws: (any Error).self) {
      try ns.run(DaemonProbe.binary, ["select", "-iface-can-reach=10.99.0.1"])
    }
    #expect("\(unreachable.map { "\($0)" } ?? "")".contains("no route to 10.99.0.1"))
  }
}
