import FlannelCore
import Foundation
import Testing

@Suite struct LeaseTableTests {
  static func lease(_ subnet: String, _ ip: String) -> Lease {
    Lease(
      subnet: IPv4Network(subnet)!, attrs: LeaseAttrs(publicIP: IPv4Address(ip)!),
      expiration: Date(timeIntervalSince1970: 1_700_000_000))
  }

  static let table = LeaseTable([
    lease("10.1.16.0/24", "192.168.0.2"),
    lease("10.1.0.0/16", "192.168.0.9"),
    lease("10.1.15.0/24", "192.168.0.1"),
    lease("10.1.15.128/25", "192.168.0.3"),
    lease("10.2.0.0/24", "192.168.0.4"),
  ])

  @Test func sortsBySubnet() {
    #expect(
      Self.table.leases.map(\.subnet.description) == [
        "10.1.0.0/16", "10.1.15.0/24", "10.1.15.128/25", "10.1.16.0/24", "10.2.0.0/24",
      ])
    #expect(Self.table.count == 5)
  }

  @Test(arguments: [
    ("10.1.15.7", "192.168.0.1"),
    ("10.1.15.200", "192.168.0.3"),  // /25 beats /24
    ("10.1.16.255", "192.168.0.2"),
    ("10.1.99.1", "192.168.0.9"),  // only the /16 matches
    ("10.2.0.1", "192.168.0.4"),
  ])
  func longestPrefixMatch(destination: String, publicIP: String) {
    #expect(Self.table.lookup(IPv4Address(destination)!)?.attrs.publicIP == IPv4Address(publicIP))
  }

  @Test(arguments: ["10.3.0.1", "10.2.1.0", "9.255.255.255"])
  func noMatch(destination: String) {
    #expect(Self.table.lookup(IPv4Address(destination)!) == nil)
  }

  @Test func exactSubscript() {
    #expect(Self.table[IPv4Network("10.1.15.0/24")!]?.attrs.publicIP == IPv4Address("192.168.0.1"))
    #expect(Self.table[IPv4Network("10.1.15.0/25")!] == nil)
  }

  @Test func laterLeaseForSameSubnetWins() {
    let table = LeaseTable([
      Self.lease("10.1.15.0/24", "192.168.0.1"), Self.lease("10.1.15.0/24", "192.168.0.7"),
    ])
    #expect(table.count == 1)
    #expect(table.lookup(IPv4Address("10.1.15.1")!)?.attrs.publicIP == IPv4Address("192.168.0.7"))
  }

  @Test func assigningLeasesRebuildsIndex() {
    var table = Self.table
    table.leases = [Self.lease("10.9.0.0/24", "192.168.0.5")]
    #expect(table.count == 1)
    #expect(table.lookup(IPv4Address("10.9.0.9")!)?.attrs.publicIP == IPv4Address("192.168.0.5"))
    #expect(table.lookup(IPv4Address("10.1.15.7")!) == nil)
    #expect(LeaseTable([]).lookup(IPv4Address("10.1.15.7")!) == nil)
  }
}
