@testable import FlannelCore

/// subnet.env reading (`SubnetEnv.variables`, `previousSubnet`) on arbitrary bytes and on
/// rendered files: what we write reads back as the same values; our four lines after any
/// text (a hand-edited file) win, and before text that sets no FLANNEL_SUBNET they still give
/// the subnet; no value spans lines.
enum SubnetEnvTarget: ParserTarget {
  static let name = "subnetenv"
  static let requiredChecks = [
    "rendered file read back", "input then rendered", "rendered then input",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    var input = FuzzInput(bytes)
    // Leases are /30 or wider: FLANNEL_SUBNET, the first host address, lies inside them.
    let env = SubnetEnv(
      network: IPv4Network(address: IPv4Address(input.u32()), prefixLength: Int(input.byte()) % 33),
      subnet: IPv4Network(address: IPv4Address(input.u32()), prefixLength: Int(input.byte()) % 31),
      mtu: Int(input.u16()), ipMasq: input.bool())
    let rendered = env.rendered()
    let gateway = "\(IPv4Address(env.subnet.address.value &+ 1))/\(env.subnet.prefixLength)"
    let expected = [
      "FLANNEL_NETWORK": env.network.description, "FLANNEL_SUBNET": gateway,
      "FLANNEL_MTU": String(env.mtu), "FLANNEL_IPMASQ": String(env.ipMasq),
    ]
    require(SubnetEnv.variables(in: rendered) == expected, "rendered file reads back differently")
    require(SubnetEnv.previousSubnet(in: rendered) == env.subnet, "previousSubnet of \(rendered)")
    Checks.count("rendered file read back")

    // The input's own variables come through this read too (a scan of the input costs most
    // of a run, so it is read twice, not three times).
    let after = SubnetEnv.variables(in: raw + "\n" + rendered)
    for (key, value) in after {
      require(
        !key.isEmpty && !key.contains(where: \.isNewline) && !value.contains(where: \.isNewline),
        "variable \(key)=\(value) spans lines")
    }
    require(
      expected.allSatisfy { after[$0.key] == $0.value },
      "our lines after \(raw) do not win: \(after)")
    Checks.count("input then rendered")
    if !raw.contains("FLANNEL_SUBNET") {
      require(
        SubnetEnv.previousSubnet(in: rendered + raw) == env.subnet,
        "text without FLANNEL_SUBNET after our lines changed the subnet: \(raw)")
      Checks.count("rendered then input")
    }
  }
}
