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

@Suite struct DualStackSubnetKeyTests {
  static func subnets(_ ipv4: String, _ ipv6: String?) -> LeaseSubnets {
    LeaseSubnets(ipv4: IPv4Network(ipv4)!, ipv6: ipv6.map { IPv6Network($0)! })
  }

  /// Keys as stock HEAD writes them (MakeSubnetKey) for IPv4-only, dual-stack and IPv6-only
  /// leases (reference §2.1's example among them).
  @Test(
    arguments: [
      ("10.1.15.0-24", "10.1.15.0/24", nil),
      ("10.5.52.0-24&fc00:0:0:1::-64", "10.5.52.0/24", "fc00:0:0:1::/64"),
      ("10.5.52.0-24&fc00::-64", "10.5.52.0/24", "fc00::/64"),
      ("10.5.52.0-24&2001:db8:0:ff::-64", "10.5.52.0/24", "2001:db8:0:ff::/64"),
      ("10.0.0.4-30&fc00::4-126", "10.0.0.4/30", "fc00::4/126"),
      ("0.0.0.0-0&fc00:0:0:1::-64", "0.0.0.0/0", "fc00:0:0:1::/64"),
    ] as [(String, String, String?)])
  func formatsAndParsesBothWays(key: String, ipv4: String, ipv6: String?) {
    let expected = Self.subnets(ipv4, ipv6)
    #expect(SubnetKey.format(expected) == key)
    #expect(SubnetKey.parseSubnets(key) == expected)
    #expect(SubnetKey.parseSubnets("/coreos.com/network/subnets/" + key) == expected)
    #expect(SubnetKey.parse(key) == expected.ipv4)
  }

  @Test func ipv6OnlyLeaseHasAnEmptyIPv4Part() throws {
    let subnets = LeaseSubnets(ipv6: IPv6Network("fc00:0:0:7::/64")!)
    #expect(subnets.ipv4IsEmpty)
    #expect(SubnetKey.format(subnets) == "0.0.0.0-0&fc00:0:0:7::-64")
    #expect(!LeaseSubnets(ipv4: IPv4Network("10.1.1.0/24")!).ipv4IsEmpty)
  }

  /// What stock's regex and readers accept beyond what it writes.
  @Test(
    arguments: [
      // Any number of digits in the IPv6 length (ParseUint), up to 127 (7 bits).
      ("10.1.15.0-24&fc00::-0064", "10.1.15.0/24", "fc00::/64"),
      ("10.1.15.0-24&fc00::-127", "10.1.15.0/24", "fc00::/127"),
      // Uncompressed and zero-padded hex is fine for ParseIP; host bits are masked.
      (
        "10.1.15.0-24&fc00:0000:0000:0001:0000:0000:0000:0000-64", "10.1.15.0/24", "fc00:0:0:1::/64"
      ),
      ("10.1.15.0-24&fc00::1-64", "10.1.15.0/24", "fc00::/64"),
      // "::-0" is stock's empty IPv6 subnet.
      ("10.1.15.0-24&::-0", "10.1.15.0/24", nil),
    ] as [(String, String, String?)])
  func readsStockVariants(key: String, ipv4: String, ipv6: String?) {
    #expect(SubnetKey.parseSubnets(key) == Self.subnets(ipv4, ipv6))
  }

  @Test(arguments: [
    // The regex allows only lower-case hex digits and colons in the IPv6 part.
    "10.1.15.0-24&FC00::-64", "10.1.15.0-24&::ffff:10.1.2.3-128", "10.1.15.0-24&fc00::%1-64",
    // ParseUint(…, 7) refuses 128; ParseIP refuses malformed addresses.
    "10.1.15.0-24&fc00::-128", "10.1.15.0-24&fc00:::-64", "10.1.15.0-24&1:2:3:4:5:6:7:8:9-64",
    "10.1.15.0-24&fc00::-", "10.1.15.0-24&-64", "10.1.15.0-24&fc00::-6x",
    "10.1.15.0-24&fc00::-64&fc01::-64", "&fc00::-64",
  ])
  func rejects(key: String) {
    #expect(SubnetKey.parseSubnets(key) == nil)
    #expect(SubnetKey.parse(key) == nil)
  }
}
