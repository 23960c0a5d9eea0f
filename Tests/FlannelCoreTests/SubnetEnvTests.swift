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
