import FlannelCore
import Testing

@Suite struct IPv4AddressTests {
  @Test(arguments: [
    ("10.1.15.0", UInt32(0x0A01_0F00)),
    ("0.0.0.0", 0),
    ("255.255.255.255", 0xFFFF_FFFF),
    ("172.17.254.0", 0xAC11_FE00),
    ("192.168.64.3", 0xC0A8_4003),
  ])
  func parsesDottedQuad(text: String, value: UInt32) {
    let address = IPv4Address(text)
    #expect(address?.value == value)
    #expect(address?.description == text)
  }

  @Test(arguments: [
    "", "10.1.15", "10.1.15.0.1", "10.1.15.256", "10.1..0", ".10.1.15", "10.1.15.0.",
    "a.b.c.d", "10.1.15.-1", "010.1.15.0", "10.1.15.00", " 10.1.15.0", "10.1.15.0 ",
    "1000.1.1.1", "10.1.15.0/24", "fc00::1", "१.2.3.4",
  ])
  func rejectsMalformed(text: String) {
    #expect(IPv4Address(text) == nil)
  }

  @Test func ordersNumerically() {
    #expect(IPv4Address("10.1.2.0")! < IPv4Address("10.1.10.0")!)
    #expect(IPv4Address("9.255.255.255")! < IPv4Address("10.0.0.0")!)
  }
}

@Suite struct IPv4NetworkTests {
  @Test(arguments: [
    ("10.1.0.0/16", "10.1.0.0/16", UInt32(0xFFFF_0000), UInt64(65536)),
    ("172.17.0.1/16", "172.17.0.0/16", 0xFFFF_0000, 65536),
    ("10.1.15.77/24", "10.1.15.0/24", 0xFFFF_FF00, 256),
    ("0.0.0.0/0", "0.0.0.0/0", 0, 1 << 32),
    ("1.2.3.4/32", "1.2.3.4/32", 0xFFFF_FFFF, 1),
    ("10.0.0.7/30", "10.0.0.4/30", 0xFFFF_FFFC, 4),
  ])
  func parsesAndMasks(text: String, canonical: String, mask: UInt32, size: UInt64) {
    let network = IPv4Network(text)
    #expect(network?.description == canonical)
    #expect(network?.mask == mask)
    #expect(network?.size == size)
  }

  @Test(arguments: [
    "", "10.1.0.0", "10.1.0.0/", "10.1.0.0/33", "10.1.0.0/-1", "10.1.0.0/016",
    "10.1.0/16", "10.1.0.0/16/1", "/16", "10.1.0.0/ 16", "10.1.0.0/1a", "fc00::/64",
  ])
  func rejectsMalformed(text: String) {
    #expect(IPv4Network(text) == nil)
  }

  @Test func initializerMasksHostBits() {
    let network = IPv4Network(address: IPv4Address("10.1.15.99")!, prefixLength: 24)
    #expect(network.address == IPv4Address("10.1.15.0"))
    #expect(network == IPv4Network("10.1.15.0/24"))
    #expect(network.lastAddress == IPv4Address("10.1.15.255"))
  }

  @Test func containsAddresses() {
    let network = IPv4Network("10.1.0.0/16")!
    #expect(network.contains(IPv4Address("10.1.0.0")!))
    #expect(network.contains(IPv4Address("10.1.255.255")!))
    #expect(!network.contains(IPv4Address("10.2.0.0")!))
    #expect(!network.contains(IPv4Address("10.0.255.255")!))
    #expect(IPv4Network("0.0.0.0/0")!.contains(IPv4Address("203.0.113.9")!))
  }

  @Test(arguments: [
    ("10.1.0.0/16", "10.1.15.0/24", true),
    ("10.1.0.0/16", "10.1.0.0/16", true),
    ("10.1.15.0/24", "10.1.0.0/16", false),
    ("10.1.0.0/16", "10.2.15.0/24", false),
    ("0.0.0.0/0", "10.2.15.0/24", true),
  ])
  func containsNetworks(outer: String, inner: String, expected: Bool) {
    #expect(IPv4Network(outer)!.contains(IPv4Network(inner)!) == expected)
  }

  /// Flannel compares with the shorter mask: nested networks overlap, siblings do not.
  @Test(arguments: [
    ("10.1.15.0/24", "10.1.15.0/24", true),
    ("10.1.15.0/24", "10.1.16.0/24", false),
    ("10.1.0.0/16", "10.1.15.0/24", true),
    ("10.1.15.0/24", "10.1.0.0/16", true),
    ("10.1.15.0/24", "10.1.15.128/25", true),
    ("10.1.15.0/25", "10.1.15.128/25", false),
    ("10.0.0.0/8", "11.0.0.0/8", false),
    ("0.0.0.0/0", "192.168.1.0/24", true),
  ])
  func overlaps(a: String, b: String, expected: Bool) {
    let left = IPv4Network(a)!
    let right = IPv4Network(b)!
    #expect(left.overlaps(right) == expected)
    #expect(right.overlaps(left) == expected)
  }

  @Test func ordersByAddressThenPrefix() {
    let sorted = ["10.1.16.0/24", "10.1.0.0/24", "10.1.0.0/16", "9.0.0.0/8"]
      .map { IPv4Network($0)! }.sorted()
    #expect(
      sorted.map(\.description) == ["9.0.0.0/8", "10.1.0.0/16", "10.1.0.0/24", "10.1.16.0/24"])
  }
}

@Suite struct MACAddressTests {
  @Test(arguments: [
    ("82:4b:b6:2f:54:4e", "82:4b:b6:2f:54:4e"),
    ("C6:D2:32:6F:8F:44", "c6:d2:32:6f:8f:44"),
    ("00:01:02:0a:0B:ff", "00:01:02:0a:0b:ff"),
    ("82-4B-B6-2F-54-4E", "82:4b:b6:2f:54:4e"),
  ])
  func parses(text: String, canonical: String) {
    #expect(MACAddress(text)?.description == canonical)
  }

  @Test(arguments: [
    "", "82:4b:b6:2f:54", "82:4b:b6:2f:54:4e:00", "82:4b:b6:2f:54:4", "82:4b:b6:2f:54:4eg",
    "82:4b:b6:2f:54:gg", "824b.b62f.544e", "82:4b-b6:2f:54:4e", "82:4b:b6:2f:54:+4",
  ])
  func rejectsMalformed(text: String) {
    #expect(MACAddress(text) == nil)
  }

  @Test func bytesMustBeSix() {
    #expect(MACAddress(bytes: [1, 2, 3, 4, 5]) == nil)
    #expect(MACAddress(bytes: [0xde, 0xad, 0xbe, 0xef, 0, 1])?.description == "de:ad:be:ef:00:01")
  }

  @Test func randomIsLocallyAdministeredUnicast() {
    var rng = SeededRNG(seed: 42)
    var seen = Set<MACAddress>()
    for _ in 0..<64 {
      let mac = MACAddress.randomLocallyAdministered(using: &rng)
      #expect(mac.bytes.count == 6)
      #expect(mac.bytes[0] & 0x01 == 0)
      #expect(mac.bytes[0] & 0x02 == 0x02)
      #expect(MACAddress(mac.description) == mac)
      seen.insert(mac)
    }
    #expect(seen.count == 64)
  }
}
