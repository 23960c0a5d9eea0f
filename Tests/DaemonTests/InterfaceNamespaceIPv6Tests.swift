import Testing

/// Dual-stack interface selection against a real kernel (daemon-probe select6 in a
/// namespace of the test): IPv6 addresses and the IPv6 default route read through netlink.
@Suite struct InterfaceNamespaceIPv6Tests {
  /// va0: IPv4 and two IPv6 addresses, the default routes of both families; vc0: IPv4 and a
  /// deprecated IPv6 address beside a usable one; ve0: IPv4 only (no link-local address
  /// either: addrgenmode none).
  static func lab() throws -> OpsNamespace {
    let ns = try OpsNamespace("iface6")
    try ns.ip(
      """
      link add va0 type veth peer name vb0
      link add vc0 type veth peer name vd0
      link add ve0 type veth peer name vf0
      addr add 10.20.0.1/24 dev va0
      addr add 192.168.77.1/24 dev vc0
      addr add 10.30.0.5/24 dev ve0
      -6 addr add fd00:20::1/64 dev va0 nodad
      -6 addr add fd00:20::2/64 dev va0 nodad
      -6 addr add fd00:77::dead/64 dev vc0 nodad preferred_lft 0
      -6 addr add fd00:77::1/64 dev vc0 nodad
      link set va0 up
      link set vb0 up
      link set vc0 up
      link set vd0 up
      link set ve0 addrgenmode none
      link set ve0 up
      link set vf0 up
      route add default via 10.20.0.254 dev va0
      -6 route add default via fd00:20::fe dev va0
      """)
    return ns
  }

  static let cases: [(flags: [String], expected: String)] = [
    // The kernel lists the newest IPv6 address first; stock takes the first of equal rank.
    ([], "va0 10.20.0.1 fd00:20::2 fd00:20::2"),
    (["-iface=vc0"], "vc0 192.168.77.1 fd00:77::1 fd00:77::1"),
    (["-public-ipv6=fd00:20::1"], "va0 10.20.0.1 fd00:20::1 fd00:20::1"),
    (["-iface=fd00:77::1"], "vc0 192.168.77.1 fd00:77::1 fd00:77::1"),
    (["-iface-regex=^(192\\.168\\.77|fd00:77::1)"], "vc0 192.168.77.1 fd00:77::1 fd00:77::1"),
  ]

  @Test func selectsInANamespace() throws {
    let ns = try Self.lab()
    for c in Self.cases {
      let output = try ns.run(DaemonProbe.binary, ["select6"] + c.flags)
      let fields = output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        .reduce(into: [String: String]()) { map, field in
          let pair = field.split(separator: "=", maxSplits: 1)
          if pair.count == 2 { map[String(pair[0])] = String(pair[1]) }
        }
      let got = [fields["name"], fields["address"], fields["address6"], fields["public6"]]
        .map { $0 ?? "?" }.joined(separator: " ")
      #expect(got == c.expected, "flags \(c.flags)")
    }
  }

  @Test func anInterfaceWithoutIPv6IsRefusedWithTheFix() throws {
    let ns = try Self.lab()
    let error = #expect(throws: (any Error).self) {
      try ns.run(DaemonProbe.binary, ["select6", "-iface=ve0"])
    }
    let text = "\(error.map { "\($0)" } ?? "")"
    #expect(text.contains("failed to find IPv6 address for interface ve0"))
    #expect(text.contains("remove EnableIPv6"))
  }
}
