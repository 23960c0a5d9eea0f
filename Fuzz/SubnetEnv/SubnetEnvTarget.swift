@testable import FlannelCore

/// subnet.env reading (`SubnetEnv.variables`, `previousSubnet`, `previousIPv6Subnet`) on
/// arbitrary bytes and on rendered files (IPv4-only, dual-stack, IPv6-only): what we write
/// reads back as the same values; our lines after any text (a hand-edited file) win, and
/// before text that sets no FLANNEL_SUBNET / FLANNEL_IPV6_SUBNET they still give the
/// subnets; no value spans lines.
enum SubnetEnvTarget: ParserTarget {
  static let name = "subnetenv"
  static let requiredChecks = [
    "rendered file read back", "input then rendered", "rendered then input",
    "rendered dual-stack file read back", "rendered IPv6-only file read back",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    var input = FuzzInput(bytes)
    // Leases are /30 or wider: FLANNEL_SUBNET, the first host address, lies inside them.
    var env = SubnetEnv(
      network: IPv4Network(address: IPv4Address(input.u32()), prefixLength: Int(input.byte()) % 33),
      subnet: IPv4Network(address: IPv4Address(input.u32()), prefixLength: Int(input.byte()) % 31),
      mtu: Int(input.u16()), ipMasq: input.bool())
    // The IPv6 part from the bytes after the IPv4 ones; subnets /126 or wider, as stock's
    // IPv6SubnetLen is. A v4-mapped subnet is left out: Go prints it as a dotted quad, which
    // no IPv6 CIDR reader takes back (stock's own reader neither).
    let ipv6Flags = input.byte()
    if ipv6Flags & 1 != 0 {
      let network = IPv6Network(
        address: IPv6Address(high: input.u64(), low: input.u64()),
        prefixLength: Int(input.byte()) % 129)
      let subnet = IPv6Network(
        address: IPv6Address(high: input.u64(), low: input.u64()),
        prefixLength: Int(input.byte()) % 127)
      if network.address.ipv4Mapped == nil && subnet.address.advanced(by: 1)?.ipv4Mapped == nil {
        env.ipv6Network = network
        env.ipv6Subnet = subnet
        env.enableIPv4 = ipv6Flags & 2 == 0
      }
    }
    let rendered = env.rendered()
    var expected = [
      "FLANNEL_MTU": String(env.mtu), "FLANNEL_IPMASQ": String(env.ipMasq),
    ]
    if env.enableIPv4 {
      expected["FLANNEL_NETWORK"] = env.network.description
      expected["FLANNEL_SUBNET"] =
        "\(IPv4Address(env.subnet.address.value &+ 1))/\(env.subnet.prefixLength)"
    }
    if let network = env.ipv6Network, let subnet = env.ipv6Subnet {
      expected["FLANNEL_IPV6_NETWORK"] = network.description
      expected["FLANNEL_IPV6_SUBNET"] = "\(subnet.address.advanced(by: 1)!)/\(subnet.prefixLength)"
    }
    require(SubnetEnv.variables(in: rendered) == expected, "rendered file reads back differently")
    let ipv4Subnet = env.enableIPv4 ? env.subnet : nil
    require(SubnetEnv.previousSubnet(in: rendered) == ipv4Subnet, "previousSubnet of \(rendered)")
    require(
      SubnetEnv.previousIPv6Subnet(in: rendered) == env.ipv6Subnet,
      "previousIPv6Subnet of \(rendered)")
    Checks.count("rendered file read back")
    if env.ipv6Subnet != nil {
      Checks.count(
        env.enableIPv4 ? "rendered dual-stack file read back" : "rendered IPv6-only file read back")
    }

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
    if !raw.contains("FLANNEL_SUBNET") && !raw.contains("FLANNEL_IPV6_SUBNET") {
      require(
        SubnetEnv.previousSubnet(in: rendered + raw) == ipv4Subnet
          && SubnetEnv.previousIPv6Subnet(in: rendered + raw) == env.ipv6Subnet,
        "text without FLANNEL_SUBNET after our lines changed the subnets: \(raw)")
      Checks.count("rendered then input")
    }
  }
}
