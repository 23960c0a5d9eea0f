import FlannelCore
import Testing

@Suite struct IPv6AddressTests {
  /// Inputs Go's net.ParseIP accepts and the text its String() gives back (RFC 5952 form;
  /// a v4-mapped address as a dotted quad). Forms from RFC 4291 §2.2 and RFC 5952 §4.
  @Test(arguments: [
    ("::", "::"),
    ("::1", "::1"),
    ("0:0:0:0:0:0:0:1", "::1"),
    ("2001:db8::68", "2001:db8::68"),
    ("2001:DB8:0:0:0:0:0:68", "2001:db8::68"),
    ("2001:0db8:0000:0000:0000:0000:0000:0068", "2001:db8::68"),
    ("2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a"),
    ("FF01:0:0:0:0:0:0:101", "ff01::101"),
    ("fc00:0:0:1::", "fc00:0:0:1::"),
    ("fc00:0000:0000:0001:0000:0000:0000:0000", "fc00:0:0:1::"),
    // Longest run of zero groups wins; the first of equal runs; a lone zero stays.
    ("fc00:0:0:0:1:0:0:1", "fc00::1:0:0:1"),
    ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
    ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
    ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
    ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
    ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
    ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    // Embedded IPv4 in the last two groups; only the v4-mapped prefix prints dotted.
    ("::ffff:10.1.2.3", "10.1.2.3"),
    ("::FFFF:a01:203", "10.1.2.3"),
    ("10.1.2.3", "10.1.2.3"),
    ("::10.1.2.3", "::a01:203"),
    ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ("1::7:1.2.3.4", "1::7:102:304"),
    ("0001::", "1::"),
    ("::0fff", "::fff"),
  ])
  func parsesAndFormatsAsGo(text: String, canonical: String) throws {
    let address = try #require(IPv6Address(text))
    #expect(address.description == canonical)
    #expect(IPv6Address(canonical) == address)
  }

  @Test(arguments: [
    "", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8",
    "1:2:3:4:5:6:7", "12345::", "10000::", "g::", ":1::", "1::2:", "1:2:3:4:5:6:7:1.2.3.4",
    "1:2:3:4:5:1.2.3.4", "::1.2.3.04", "::1.2.3", "::1.2.3.4.5", "::256.1.1.1",
    "1:2:3:4:5:6:1.2.3.4:5", "::1.2.3.4::", " ::1", "::1 ", "fe80::1%eth0", "fe80::1%", "%1",
    "0x1::", "1.2.3", "01.2.3.4", "::-1", "１::", "00001::", "::0000ffff",
  ])
  func refusesWhatGoRefuses(text: String) {
    #expect(IPv6Address(text) == nil)
  }

  @Test func bytesAndGroupsAreNetworkOrder() throws {
    let address = try #require(IPv6Address("2001:db8::8:800:200c:417a"))
    #expect(address.high == 0x2001_0db8_0000_0000)
    #expect(address.low == 0x0008_0800_200c_417a)
    #expect(address.groups == [0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a])
    #expect(
      address.bytes == [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0x00, 0x20, 0x0c, 0x41, 0x7a,
      ])
    #expect(IPv6Address(bytes: address.bytes) == address)
    #expect(IPv6Address(bytes: [UInt8](repeating: 0, count: 15)) == nil)
  }

  @Test func ipv4Mapping() throws {
    let mapped = IPv6Address(ipv4Mapped: IPv4Address("192.0.2.1")!)
    #expect(mapped == IPv6Address("::ffff:192.0.2.1"))
    #expect(mapped.ipv4Mapped == IPv4Address("192.0.2.1"))
    #expect(IPv6Address("::192.0.2.1")?.ipv4Mapped == nil)
    #expect(IPv6Address("fc00::ffff:192.0.2.1")?.ipv4Mapped == nil)
  }

  @Test func arithmeticCarriesAcrossHalves() throws {
    let lowMax = IPv6Address(high: 1, low: .max)
    let one = IPv6Address(high: 0, low: 1)
    let sum = lowMax.addingReportingOverflow(one)
    #expect(sum.partialValue == IPv6Address(high: 2, low: 0) && !sum.overflow)
    let top = IPv6Address(high: .max, low: .max)
    let wrapped = top.addingReportingOverflow(one)
    #expect(wrapped.partialValue == .zero && wrapped.overflow)
    #expect(top.advanced(by: 1) == nil)
    #expect(lowMax.advanced(by: 2) == IPv6Address(high: 2, low: 1))
    let difference = IPv6Address(high: 2, low: 0).subtractingReportingOverflow(one)
    #expect(difference.partialValue == lowMax && !difference.overflow)
    let borrowed = IPv6Address.zero.subtractingReportingOverflow(one)
    #expect(borrowed.partialValue == top && borrowed.overflow)
    #expect(IPv6Address.powerOfTwo(0) == one)
    #expect(IPv6Address.powerOfTwo(64) == IPv6Address(high: 1, low: 0))
    #expect(IPv6Address.powerOfTwo(127) == IPv6Address(high: 1 << 63, low: 0))
    #expect(~IPv6Address.zero == top)
    #expect(IPv6Address("fc00::1")! < IPv6Address("fc00::2")!)
    #expect(IPv6Address("::ffff:ffff:ffff:ffff")! < IPv6Address("0:0:0:1::")!)
  }
}

@Suite struct IPv6NetworkTests {
  @Test(arguments: [
    ("fc00::/48", "fc00::/48"),
    // Host bits are masked, as Go's ParseCIDR gives the network.
    ("fc00::1/48", "fc00::/48"),
    ("fc00:0:0:1:2:3:4:5/64", "fc00:0:0:1::/64"),
    ("FC00:0:0:1::/64", "fc00:0:0:1::/64"),
    ("fc00::/0064", "fc00::/64"),
    ("::/0", "::/0"),
    ("ff01::101/128", "ff01::101/128"),
    ("2001:db8:ffff::/33", "2001:db8:8000::/33"),
    ("::ffff:10.0.0.0/104", "10.0.0.0/104"),
  ])
  func parsesCIDR(text: String, canonical: String) throws {
    let network = try #require(IPv6Network(text))
    #expect(network.description == canonical)
  }

  @Test(arguments: [
    "fc00::", "fc00::/", "fc00::/129", "fc00::/-1", "fc00::/+8", "fc00::/ 8", "fc00::/8/8",
    "10.0.0.0/8", "10.0.0.0/104", "/64", "fc00::%eth0/64", "fc00::/0x40", "fc00:::/64",
  ])
  func refusesBadCIDR(text: String) {
    #expect(IPv6Network(text) == nil)
  }

  @Test func containsOverlapsAndNext() throws {
    let network = try #require(IPv6Network("fc00::/48"))
    #expect(network.contains(IPv6Address("fc00:0:0:ffff::1")!))
    #expect(!network.contains(IPv6Address("fc00:1::")!))
    #expect(network.contains(IPv6Network("fc00:0:0:5::/64")!))
    #expect(!network.contains(IPv6Network("fc00::/47")!))
    #expect(network.lastAddress == IPv6Address("fc00:0:0:ffff:ffff:ffff:ffff:ffff"))
    #expect(network.overlaps(IPv6Network("fc00:0:0:5::/64")!))
    #expect(IPv6Network("fc00:0:0:5::/64")!.overlaps(network))
    #expect(!network.overlaps(IPv6Network("fc00:1::/64")!))
    #expect(IPv6Network("::/0")!.overlaps(network))
    #expect(IPv6Network("fc00::/64")!.next == IPv6Network("fc00:0:0:1::/64"))
    #expect(
      IPv6Network("fc00::ffff:ffff:ffff:ffff/128")!.next == IPv6Network("fc00:0:0:1::/128"))
    #expect(network.next == IPv6Network("fc00:0:1::/48"))
    #expect(IPv6Network("ffff::/16")!.next == nil)
    #expect(IPv6Network("::/0")!.next == nil)
    #expect(IPv6Network.mask(prefixLength: 0) == .zero)
    #expect(IPv6Network.mask(prefixLength: 64) == IPv6Address(high: .max, low: 0))
    #expect(IPv6Network.mask(prefixLength: 65) == IPv6Address(high: .max, low: 1 << 63))
    #expect(IPv6Network.mask(prefixLength: 128) == IPv6Address(high: .max, low: .max))
  }
}
