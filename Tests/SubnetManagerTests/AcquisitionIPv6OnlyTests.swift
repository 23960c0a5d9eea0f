import Etcd
import FlannelCore
import Foundation
import Testing

@testable import SubnetManager

/// IPv6-only networks (`"EnableIPv4": false`) against a real etcd, both APIs: every lease key
/// is `0.0.0.0-0&<v6>-<len>` with PublicIP 0.0.0.0, as stock writes them, so leases are told
/// apart by their IPv6 subnet and a node finds its own by PublicIPv6.
@Suite struct AcquisitionIPv6OnlyTests {
  static let config =
    #"{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd10::/56","Backend":{"Type":"host-gw"}}"#

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func nodesSeeEachOtherByIPv6SubnetAndFindTheirOwnByPublicIPv6(api: EtcdAPIChoice)
    async throws
  {
    let cluster = try await TestCluster(api: api, config: Self.config)
    defer { cluster.etcd.stop() }
    let a = try cluster.node("0.0.0.0", ipv6: "fd00::1")
    let b = try cluster.node("0.0.0.0", ipv6: "fd00::2")
    let c = try cluster.node("0.0.0.0", ipv6: "fd00::3")
    let leaseA = try await a.start()
    let leaseB = try await b.start()
    let leaseC = try await c.start()
    for lease in [leaseA, leaseB, leaseC] {
      #expect(lease.subnets.ipv4IsEmpty)
      #expect(SubnetKey.format(lease.subnets).hasPrefix("0.0.0.0-0&fd10:0:0:"))
    }
    #expect(Set([leaseA, leaseB, leaseC].compactMap(\.ipv6Subnet)).count == 3)
    // Every node's table holds the two others, each under its own key (one per IPv6
    // subnet, although all three IPv4 parts are 0.0.0.0/0).
    #expect(
      await eventually {
        Set(b.table.leases.map(\.subnets)) == [leaseA.subnets, leaseC.subnets]
          && b.table[leaseA.subnets]?.attrs.publicIPv6 == IPv6Address("fd00::1")
      })
    // A deleted lease leaves the others' tables and no other entry goes with it.
    await c.stop()
    try await cluster.registry().deleteLease(leaseC.subnets)
    #expect(await eventually { b.table.leases.map(\.subnets) == [leaseA.subnets] })
    #expect(await b.stats.reacquisitions == 0, "C's key going away is not B losing its own")
    // A restart finds its own lease by PublicIPv6, not by PublicIP (0.0.0.0 on every node).
    await a.stop()
    let again = try cluster.node("0.0.0.0", ipv6: "fd00::1")
    #expect(try await again.start().subnets == leaseA.subnets)
    await again.stop()
    await b.stop()
  }

  /// Every node writes PublicIP 0.0.0.0 here: a write over our key by another node must be
  /// told from our own renewal echo by PublicIPv6, and the node leases again.
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func anotherNodeWritingOverOurKeyIsSeenByPublicIPv6(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api, config: Self.config)
    defer { cluster.etcd.stop() }
    let a = try cluster.node("0.0.0.0", ipv6: "fd00::1")
    let leaseA = try await a.start()
    let intruder = LeaseAttrs(
      publicIP: IPv4Address(0), backendType: "host-gw", publicIPv6: IPv6Address("fd00::9"))
    _ = try await cluster.registry().updateLease(leaseA.subnets, attrs: intruder, ttl: 0)
    #expect(await eventually { await a.stats.reacquisitions == 1 })
    #expect(await eventually { await a.ownLease?.subnets != leaseA.subnets })
    await a.stop()
  }

  @Test func leasesOfAFamilyTheNetworkLacksStayOutOfTheTable() throws {
    func lease(_ key: String) throws -> Lease {
      let subnets = try #require(SubnetKey.parseSubnets(key))
      return Lease(
        subnet: subnets.ipv4, ipv6Subnet: subnets.ipv6,
        attrs: LeaseAttrs(publicIP: IPv4Address("192.168.1.9")!), expiration: nil)
    }
    let ipv6Only = try NetworkConfig.parse(Self.config)
    let dualStack = try NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fd10::/56"}"#)
    let ipv4 = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
    let cases: [(NetworkConfig, String, Bool)] = [
      (ipv6Only, "0.0.0.0-0&fd10:0:0:5::-64", true),
      (ipv6Only, "10.1.5.0-24", false),
      (ipv6Only, "10.1.5.0-24&fd10:0:0:5::-64", true),
      (dualStack, "0.0.0.0-0&fd10:0:0:5::-64", false),
      (dualStack, "10.1.5.0-24", true),
      (dualStack, "10.1.5.0-24&fd10:0:0:5::-64", true),
      (ipv4, "0.0.0.0-0&fd10:0:0:5::-64", false),
      (ipv4, "10.1.5.0-24", true),
    ]
    for (network, key, admitted) in cases {
      let refusal = LeaseFamilies(network: network).refusal(of: try lease(key))
      #expect((refusal == nil) == admitted, "\(key): \(refusal ?? "admitted")")
    }
  }
}
