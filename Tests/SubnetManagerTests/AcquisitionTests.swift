import Etcd
import FlannelCore
import Foundation
import SubnetManager
import Testing

@Suite struct AcquisitionTests {
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func twoNodesGetDifferentSubnetsAndARestartedNodeGetsItsOwnBack(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let a = try cluster.node("192.168.1.1")
    let b = try cluster.node("192.168.1.2")
    let leaseA = try await a.start()
    let leaseB = try await b.start()
    #expect(leaseA.subnet != leaseB.subnet)
    #expect(leaseA.subnet.prefixLength == 24)
    #expect(IPv4Network("10.1.0.0/16")!.contains(leaseA.subnet))
    await a.stop()

    // Restarted with its key still in etcd: the lease holding its PublicIP comes back.
    let again = try cluster.node("192.168.1.1")
    #expect(try await again.start().subnet == leaseA.subnet)
    await again.stop()

    // Key gone (deleted by hand), subnet.env remembers it: the same subnet, since it is free.
    try await cluster.deleteLease(leaseA.subnet)
    let fromFile = try cluster.node(
      "192.168.1.1", previous: "\(IPv4Address(leaseA.subnet.address.value + 1))/24")
    #expect(try await fromFile.start().subnet == leaseA.subnet)
    let held = try await cluster.leasesInEtcd()
    #expect(held[leaseA.subnet] == IPv4Address("192.168.1.1"))
    #expect(held[leaseB.subnet] == IPv4Address("192.168.1.2"))
    await fromFile.stop()
    await b.stop()
  }

  /// A node that ran stock with EnableIPv6 left a key naming both subnets; on an IPv4
  /// network that lease no longer fits (as stock decides): it is deleted under its full key
  /// and a plain one is written — not reused beside it, where its later expiry would read as
  /// the loss of our subnet.
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func ourStockDualStackLeaseIsDeletedUnderItsFullKey(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let key = cluster.prefix + "/subnets/10.1.7.0-24&fc00:0:0:7::-64"
    let value =
      #"{"PublicIP":"192.168.1.1","PublicIPv6":"fd00::1","BackendType":"host-gw"}"#
    switch api {
    case .v2:
      _ = try await EtcdV2Client(config: cluster.clientConfig).set(key, value: value)
    default:
      try await EtcdV3Client(config: cluster.clientConfig).put(key, value: value)
    }
    let node = try cluster.node("192.168.1.1")
    let lease = try await node.start()
    #expect(lease.ipv6Subnet == nil)
    let keys = try await cluster.registry().listLeases().leases.map { SubnetKey.format($0.subnets) }
    #expect(keys == [SubnetKey.format(lease.subnet)], "the dual-stack key is gone, one plain key")
    await node.stop()
  }

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func previousSubnetHeldBySomebodyElseIsNotTakenOver(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let b = try cluster.node("192.168.1.2")
    let leaseB = try await b.start()
    // A node whose old subnet.env names B's subnet must not take it (stock ≥ v0.18 rule).
    let a = try cluster.node(
      "192.168.1.1", previous: "\(IPv4Address(leaseB.subnet.address.value + 1))/24")
    let leaseA = try await a.start()
    #expect(leaseA.subnet != leaseB.subnet)
    #expect(try await cluster.leasesInEtcd()[leaseB.subnet] == IPv4Address("192.168.1.2"))
    await a.stop()
    await b.stop()
  }

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func twentyNodesAtTheSameMomentGetTwentyDistinctSubnets(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let nodes = try (1...20).map { try cluster.node("192.168.2.\($0)") }
    let subnets = try await withThrowingTaskGroup(of: IPv4Network.self) { group in
      for node in nodes { group.addTask { try await node.start().subnet } }
      return try await group.reduce(into: [IPv4Network]()) { $0.append($1) }
    }
    #expect(subnets.count == 20)
    #expect(Set(subnets).count == 20)
    let held = try await cluster.leasesInEtcd()
    #expect(held.count == 20)
    #expect(Set(held.values).count == 20)
    for node in nodes { await node.stop() }
  }

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func fiveNodesForFourSubnetsExactlyOneIsOutOfSubnets(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(
      api: api, config: #"{"Network":"10.9.0.0/24","SubnetLen":26,"SubnetMin":"10.9.0.0"}"#)
    defer { cluster.etcd.stop() }
    let nodes = try (1...5).map { try cluster.node("192.168.3.\($0)") }
    let results = await withTaskGroup(of: Result<IPv4Network, any Error>.self) { group in
      for node in nodes {
        group.addTask {
          do { return .success(try await node.start().subnet) } catch { return .failure(error) }
        }
      }
      return await group.reduce(into: [Result<IPv4Network, any Error>]()) { $0.append($1) }
    }
    let won = results.compactMap { try? $0.get() }
    let errors = results.compactMap { result -> String? in
      if case .failure(let error) = result { return "\(error)" }
      return nil
    }
    #expect(Set(won).count == 4)
    #expect(errors.count == 1)
    #expect(errors.first?.contains("out of subnets") == true)
    for node in nodes { await node.stop() }
  }
}
