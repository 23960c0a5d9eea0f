import FlannelCore
import Testing

@Suite struct SubnetKeyTests {
  @Test(arguments: [
    ("10.1.15.0-24", "10.1.15.0/24"),
    ("/coreos.com/network/subnets/10.1.15.0-24", "10.1.15.0/24"),
    ("/coreos.com/network/subnets/10.5.52.0-24&fc00:0:0:1::-64", "10.5.52.0/24"),
    ("0.0.0.0-0", "0.0.0.0/0"),
    ("255.255.255.252-30", "255.255.255.252/30"),
    // Host bits are masked (flannel would keep them; see SubnetKey.parse).
    ("10.1.15.1-24", "10.1.15.0/24"),
    // flannel reads the length with \d+ and ParseUint, so a leading zero is accepted.
    ("10.1.15.0-024", "10.1.15.0/24"),
  ])
  func parses(key: String, network: String) {
    #expect(SubnetKey.parse(key) == IPv4Network(network))
  }

  @Test(arguments: [
    "", "foo", "10.1.15.0-33", "10.1.15.0", "10.1.15.0-", "10.1.15-24", "10.1.15.0-24x",
    "10.1.15.0/24", "/coreos.com/network/subnets/", "10.1.15.0-24&",
    "10.1.15.0-24&fc00::", "10.1.15.0-24&fc00::-129", "10.1.15.0-24&zz::-64",
    "10.1.15.0-24&fc00::-64&x", "256.1.15.0-24", "10.1.15.0--24",
  ])
  func rejects(key: String) {
    #expect(SubnetKey.parse(key) == nil)
  }

  @Test(arguments: ["10.1.15.0/24", "0.0.0.0/0", "192.168.0.128/25"])
  func formatRoundTrips(network: String) {
    let subnet = IPv4Network(network)!
    let key = SubnetKey.format(subnet)
    #expect(key == network.replacingOccurrences(of: "/", with: "-"))
    #expect(SubnetKey.parse(key) == subnet)
  }
}
