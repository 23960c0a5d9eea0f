import Etcd
import FlannelCore
import Foundation
import SubnetManager
import Testing

/// Dual-stack leases against a real etcd, both APIs: the IPv6 subnet allocated beside the
/// IPv4 one under stock's `<v4>-<len>&<v6>-<len>` key, PublicIPv6 in the value, and reuse on
/// restart by PublicIP or by the subnets of the previous subnet.env.
@Suite struct AcquisitionIPv6Tests {
  static let config =
    #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fd10::/56","Backend":{"Type":"host-gw"}}"#

  /// The raw value under the lease's key.
  static func value(_ cluster: TestCluster, _ lease: Lease) async throws -> String? {
    let key = cluster.prefix + "/subnets/" + SubnetKey.format(lease.subnets)
    switch cluster.api {
    case .v2: return try await EtcdV2Client(config: cluster.clientConfig).get(key).node?.value
    default: return try await EtcdV3Client(config: cluster.clientConfig).get(key).kv?.value
    }
  }

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func twoNodesGetBothFamiliesAndARestartGetsThemBack(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api, config: Self.config)
    defer { cluster.etcd.stop() }
    let a = try cluster.node("192.168.1.1", ipv6: "fd00::1")
    let b = try cluster.node("192.168.1.2", ipv6: "fd00::2")
    let leaseA = try await a.start()
    let leaseB = try await b.start()
    let ipv6A = try #require(leaseA.ipv6Subnet)
    let ipv6B = try #require(leaseB.ipv6Subnet)
    #expect(leaseA.subnet != leaseB.subnet && ipv6A != ipv6B)
    #expect(ipv6A.prefixLength == 64 && IPv6Network("fd10::/56")!.contains(ipv6A))
    #expect(ipv6A != IPv6Network("fd10::/64"), "the first subnet is skipped, as for IPv4")
    #expect(leaseA.attrs.publicIPv6 == IPv6Address("fd00::1"))
    let stored = try #require(try await Self.value(cluster, leaseA))
    #expect(stored == #"{"PublicIP":"192.168.1.1","PublicIPv6":"fd00::1"}"#)
    // B sees A with both subnets.
    #expect(
      await eventually { b.table[leaseA.subnets]?.ipv6Subnet == ipv6A },
      "the watching node's table carries the IPv6 subnet")
    await a.stop()

    // Restarted: the lease holding its PublicIP comes back whole, under the same key.
    let again = try cluster.node("192.168.1.1", ipv6: "fd00::1")
    let reused = try await again.start()
    #expect(reused.subnets == leaseA.subnets)
    await again.stop()

    // Key gone, subnet.env remembers both subnets: the same ones, since they are free.
    try await cluster.registry().deleteLease(leaseA.subnets)
    let fromFile = try cluster.node(
      "192.168.1.1", previous: "\(IPv4Address(leaseA.subnet.address.value + 1))/24",
      ipv6: "fd00::1", previousIPv6: "\(ipv6A.address.advanced(by: 1)!)/64")
    #expect(try await fromFile.start().subnets == leaseA.subnets)
    let keys = try await cluster.registry().listLeases().leases.map { SubnetKey.format($0.subnets) }
    #expect(Set(keys) == [SubnetKey.format(leaseA.subnets), SubnetKey.format(leaseB.subnets)])
    await fromFile.stop()
    await b.stop()
  }

  /// A node that ran IPv4-only holds a plain key; with EnableIPv6 that lease no longer fits
  /// (no IPv6 subnet): it is deleted and a dual-stack key written, as stock does.
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func anIPv4OnlyLeaseOfOursIsReplacedByADualStackOne(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api, config: Self.config)
    defer { cluster.etcd.stop() }
    _ = try await cluster.registry().createLease(
      IPv4Network("10.1.7.0/24")!, attrs: LeaseAttrs(publicIP: IPv4Address("192.168.1.1")!),
      ttl: 0)
    let node = try cluster.node("192.168.1.1", ipv6: "fd00::1")
    let lease = try await node.start()
    #expect(lease.ipv6Subnet != nil)
    let keys = try await cluster.registry().listLeases().leases.map { SubnetKey.format($0.subnets) }
    #expect(keys == [SubnetKey.format(lease.subnets)])
    #expect(keys.first?.contains("&fd10:") == true)
    await node.stop()
  }

  /// Renewal writes the dual-stack key again (never a second, IPv4-only one), and a deleted
  /// key is taken back with both subnets.
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func renewalAndReacquisitionKeepTheDualStackKey(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api, config: Self.config)
    defer { cluster.etcd.stop() }
    let node = try cluster.node(
      "192.168.1.1", ttl: 3, renewMargin: .milliseconds(2_500), ipv6: "fd00::1")
    let lease = try await node.start()
    let key = SubnetKey.format(lease.subnets)
    func keys() async throws -> [String] {
      try await cluster.registry().listLeases().leases.map { SubnetKey.format($0.subnets) }
    }
    #expect(await eventually(within: .seconds(5)) { await node.stats.renewals >= 1 })
    #expect(try await keys() == [key])
    #expect(try await Self.value(cluster, lease)?.contains(#""PublicIPv6":"fd00::1""#) == true)

    try await cluster.registry().deleteLease(lease.subnets)
    #expect(await eventually { await node.stats.reacquisitions == 1 })
    #expect(await node.ownLease?.subnets == lease.subnets)
    #expect(try await keys() == [key])
    await node.stop()
  }
}
