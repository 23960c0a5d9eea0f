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

  @Test func exactSubscript() {
    #expect(
      Self.table[LeaseSubnets(ipv4: IPv4Network("10.1.15.0/24")!)]?.attrs.publicIP
        == IPv4Address("192.168.0.1"))
    #expect(Self.table[LeaseSubnets(ipv4: IPv4Network("10.1.15.0/25")!)] == nil)
  }

  @Test func laterLeaseForSameSubnetWins() {
    let table = LeaseTable([
      Self.lease("10.1.15.0/24", "192.168.0.1"), Self.lease("10.1.15.0/24", "192.168.0.7"),
    ])
    #expect(table.count == 1)
    #expect(
      table[LeaseSubnets(ipv4: IPv4Network("10.1.15.0/24")!)]?.attrs.publicIP
        == IPv4Address("192.168.0.7"))
  }

  @Test func assigningLeasesRebuildsIndex() {
    var table = Self.table
    table.leases = [Self.lease("10.9.0.0/24", "192.168.0.5")]
    #expect(table.count == 1)
    #expect(
      table[LeaseSubnets(ipv4: IPv4Network("10.9.0.0/24")!)]?.attrs.publicIP
        == IPv4Address("192.168.0.5"))
    #expect(table[LeaseSubnets(ipv4: IPv4Network("10.1.15.0/24")!)] == nil)
    #expect(LeaseTable([])[LeaseSubnets(ipv4: IPv4Network("10.1.15.0/24")!)] == nil)
  }
}
