import FlannelCore
import Testing

@Suite struct SubnetEnvTests {
  @Test func rendersStockFormat() {
    let env = SubnetEnv(
      network: IPv4Network("10.1.0.0/16")!, subnet: IPv4Network("10.1.15.0/24")!, mtu: 1472,
      ipMasq: false)
    #expect(
      env.rendered()
        == "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.15.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n"
    )
    let masq = SubnetEnv(
      network: IPv4Network("172.17.0.0/16")!, subnet: IPv4Network("172.17.254.0/24")!,
      mtu: 1450, ipMasq: true)
    #expect(
      masq.rendered()
        == "FLANNEL_NETWORK=172.17.0.0/16\nFLANNEL_SUBNET=172.17.254.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"
    )
  }

  @Test func rendersWhatItReadsBack() {
    let env = SubnetEnv(
      network: IPv4Network("10.1.0.0/16")!, subnet: IPv4Network("10.1.15.0/24")!, mtu: 1472,
      ipMasq: false)
    #expect(
      SubnetEnv.variables(in: env.rendered()) == [
        "FLANNEL_NETWORK": "10.1.0.0/16", "FLANNEL_SUBNET": "10.1.15.1/24",
        "FLANNEL_MTU": "1472", "FLANNEL_IPMASQ": "false",
      ])
    #expect(SubnetEnv.previousSubnet(in: env.rendered()) == IPv4Network("10.1.15.0/24"))
  }

  @Test(arguments: [
    ("A=1", ["A": "1"]),
    ("A=1\n\nB=2\r\n", ["A": "1", "B": "2"]),
    ("# comment\nA=1\n  # indented comment", ["A": "1"]),
    ("export A=1", ["A": "1"]),
    ("A=\"quoted value\"", ["A": "quoted value"]),
    ("A='single'", ["A": "single"]),
    ("A=\"mismatched'", ["A": "\"mismatched'"]),
    ("A=\"#not a comment\"", ["A": "#not a comment"]),
    ("A=value # trailing comment", ["A": "value"]),
    ("A=x#y", ["A": "x#y"]),
    ("  A = spaced  ", ["A": "spaced"]),
    ("A=", ["A": ""]),
    ("A=1=2", ["A": "1=2"]),
    ("no equals sign\n=nokey\nA=1", ["A": "1"]),
    ("A=1\nA=2", ["A": "2"]),
  ])
  func parsesDotenv(text: String, expected: [String: String]) {
    #expect(SubnetEnv.variables(in: text) == expected)
  }

  @Test(arguments: [
    ("FLANNEL_SUBNET=10.1.15.1/24", "10.1.15.0/24"),
    ("# written by flanneld\nexport FLANNEL_SUBNET=\"10.1.15.1/24\"\n", "10.1.15.0/24"),
    ("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.77.1/26\n", "10.1.77.0/26"),
  ])
  func previousSubnetIsMasked(text: String, expected: String) {
    #expect(SubnetEnv.previousSubnet(in: text) == IPv4Network(expected))
  }

  @Test(arguments: [
    "", "FLANNEL_NETWORK=10.1.0.0/16", "FLANNEL_SUBNET=10.1.15.1", "FLANNEL_SUBNET=bad",
  ])
  func previousSubnetMissingOrBad(text: String) {
    #expect(SubnetEnv.previousSubnet(in: text) == nil)
  }
}

@Suite struct DualStackSubnetEnvTests {
  @Test func rendersStockDualStackOrder() {
    let env = SubnetEnv(
      network: IPv4Network("10.1.0.0/16")!, subnet: IPv4Network("10.1.15.0/24")!, mtu: 1450,
      ipMasq: true, ipv6Network: IPv6Network("fc00::/48")!,
      ipv6Subnet: IPv6Network("fc00:0:0:1::/64")!)
    #expect(
      env.rendered()
        == "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.15.1/24\nFLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00:0:0:1::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"
    )
    #expect(SubnetEnv.previousSubnet(in: env.rendered()) == IPv4Network("10.1.15.0/24"))
    #expect(SubnetEnv.previousIPv6Subnet(in: env.rendered()) == IPv6Network("fc00:0:0:1::/64"))
  }

  @Test func ipv6OnlyLeavesOutTheIPv4Lines() {
    let env = SubnetEnv(
      network: IPv4Network("0.0.0.0/0")!, subnet: IPv4Network("0.0.0.0/0")!, mtu: 1430,
      ipMasq: false, enableIPv4: false, ipv6Network: IPv6Network("2001:db8::/56")!,
      ipv6Subnet: IPv6Network("2001:db8:0:3::/64")!)
    #expect(
      env.rendered()
        == "FLANNEL_IPV6_NETWORK=2001:db8::/56\nFLANNEL_IPV6_SUBNET=2001:db8:0:3::1/64\nFLANNEL_MTU=1430\nFLANNEL_IPMASQ=false\n"
    )
    #expect(SubnetEnv.previousSubnet(in: env.rendered()) == nil)
    #expect(SubnetEnv.previousIPv6Subnet(in: env.rendered()) == IPv6Network("2001:db8:0:3::/64"))
  }

  @Test func ipv4OnlyIsUnchanged() {
    let env = SubnetEnv(
      network: IPv4Network("10.1.0.0/16")!, subnet: IPv4Network("10.1.15.0/24")!, mtu: 1472,
      ipMasq: false)
    #expect(!env.rendered().contains("IPV6"))
    #expect(SubnetEnv.previousIPv6Subnet(in: env.rendered()) == nil)
  }

  /// Stock HEAD splits the value at commas, skips what does not parse, and uses the value
  /// only when exactly one entry is left.
  @Test(
    arguments: [
      ("FLANNEL_IPV6_SUBNET=fc00:0:0:1::1/64", "fc00:0:0:1::/64"),
      ("export FLANNEL_IPV6_SUBNET=\"fd00::1/64\"", "fd00::/64"),
      ("FLANNEL_IPV6_SUBNET=not-a-cidr,fd00::1/64", "fd00::/64"),
      ("FLANNEL_IPV6_SUBNET=fd00::/64,not-a-cidr,fd01::/64", nil),
      ("FLANNEL_IPV6_SUBNET=not-a-cidr", nil),
      ("FLANNEL_IPV6_SUBNET=10.1.15.1/24", nil),
      ("FLANNEL_IPV6_SUBNET=fd00::1", nil),
      ("FLANNEL_SUBNET=10.1.15.1/24", nil),
    ] as [(String, String?)])
  func previousIPv6Subnet(text: String, expected: String?) {
    #expect(SubnetEnv.previousIPv6Subnet(in: text) == expected.flatMap { IPv6Network($0) })
  }
}
