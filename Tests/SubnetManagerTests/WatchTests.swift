import Etcd
import FlannelCore
import Foundation
import Testing

@testable import SubnetManager

@Suite struct WatchTests {
  let attrsX = LeaseAttrs(publicIP: IPv4Address("192.168.9.9")!)

  /// The table a node publishes, as subnet → PublicIP.
  func published(_ node: SubnetManager) -> [IPv4Network: IPv4Address] {
    Dictionary(uniqueKeysWithValues: node.table.leases.map { ($0.subnet, $0.attrs.publicIP) })
  }

  /// etcd's leases without the node's own.
  func expected(_ cluster: TestCluster, excluding node: SubnetManager) async throws
    -> [IPv4Network: IPv4Address]
  {
    var held = try await cluster.leasesInEtcd()
    if let own = await node.ownLease { held.removeValue(forKey: own.subnet) }
    return held
  }

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func aKeyDeletedByHandIsSeenByOthersAndReacquiredByItsOwner(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let a = try cluster.node("192.168.1.1")
    let b = try cluster.node("192.168.1.2")
    _ = try await a.start()
    let leaseB = try await b.start()
    let recorder = UpdateRecorder(a)
    #expect(await eventually { self.published(a)[leaseB.subnet] != nil })

    let deletedAt = ContinuousClock.now
    try await cluster.deleteLease(leaseB.subnet)
    // A sees it go within 2 s (it may already be back by the time we look: check the events).
    #expect(
      await eventually(within: .seconds(2)) {
        recorder.events.contains { event in
          if case .removed(let lease) = event { return lease.subnet == leaseB.subnet }
          return false
        }
      })
    #expect(ContinuousClock.now - deletedAt < .seconds(2))
    // B takes its subnet again (it is free), and A sees it back.
    #expect(
      await eventually {
        (try? await cluster.leasesInEtcd()[leaseB.subnet]) == IPv4Address("192.168.1.2")
      })
    #expect(await eventually { await b.stats.reacquisitions == 1 })
    #expect(await b.ownLease?.subnet == leaseB.subnet)
    #expect(await eventually { self.published(a)[leaseB.subnet] == IPv4Address("192.168.1.2") })
    #expect(recorder.doubledEvents().isEmpty)
    await a.stop()
    await b.stop()
  }

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func etcdDownForTenSecondsThenWatchesAndRenewalsResume(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    // Renew every ~3 s so a renewal falls inside and after the outage.
    let a = try cluster.node("192.168.1.1", ttl: 30, renewMargin: .seconds(27))
    let b = try cluster.node("192.168.1.2", ttl: 30, renewMargin: .seconds(27))
    _ = try await a.start()
    let leaseB = try await b.start()
    let recorder = UpdateRecorder(a)
    let registry = try cluster.registry()
    let z = IPv4Network("10.1.200.0/24")!
    _ = try await registry.createLease(z, attrs: attrsX, ttl: 0)
    #expect(
      await eventually { self.published(a)[z] != nil && self.published(a)[leaseB.subnet] != nil })

    cluster.etcd.stop(keepData: true)
    try await Task.sleep(for: .seconds(10))  // the outage itself, not a synchronization
    #expect(published(a)[leaseB.subnet] == IPv4Address("192.168.1.2"), "the last table stays")
    let restartedAt = Date()
    try cluster.etcd.start()

    let x = IPv4Network("10.1.201.0/24")!
    _ = try await registry.createLease(x, attrs: attrsX, ttl: 0)
    try await registry.deleteLease(z)
    #expect(
      await eventually(within: .seconds(10)) {
        let want = try await self.expected(cluster, excluding: a)
        return self.published(a) == want && recorder.replayed() == want && want[x] != nil
      })
    #expect(recorder.doubledEvents().isEmpty)
    #expect(await a.stats.watchErrors >= 1)
    #expect(await a.stats.historyLost == 0)
    // Renewals went through again after the restart.
    #expect(
      await eventually(within: .seconds(10)) {
        (await b.ownLease?.expiration ?? .distantPast) > restartedAt.addingTimeInterval(25)
      })
    #expect(await b.stats.renewalErrors >= 1)
    await a.stop()
    await b.stop()
  }

  /// The watch must resume from a point etcd no longer has: v3 compaction, v2 error 401.
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func lostWatchHistoryRelistsAndDiffs(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let a = try cluster.node("192.168.1.1")
    _ = try await a.start()
    let recorder = UpdateRecorder(a)
    let registry = try cluster.registry()
    let z = IPv4Network("10.1.200.0/24")!
    _ = try await registry.createLease(z, attrs: attrsX, ttl: 0)
    #expect(await eventually { self.published(a)[z] != nil })

    // A stops following (as if partitioned); meanwhile leases change and the history goes.
    await a.pauseWatch()
    let x = IPv4Network("10.1.201.0/24")!
    _ = try await registry.createLease(x, attrs: attrsX, ttl: 0)
    try await registry.deleteLease(z)
    switch api {
    case .v2:
      // etcd v2 keeps 1000 events: push the ones A needs out of the window.
      let v2 = try EtcdV2Client(config: cluster.clientConfig)
      try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<20 {
          group.addTask {
            for i in 0..<60 { _ = try await v2.set("/filler/\(worker)", value: "\(i)") }
          }
        }
        try await group.waitForAll()
      }
    default:
      let v3 = try EtcdV3Client(config: cluster.clientConfig)
      let revision = try await v3.put("/filler", value: "x")
      try await v3.compact(revision: revision)
    }
    await a.resumeWatch()
    #expect(
      await eventually(within: .seconds(10)) {
        let want = try await self.expected(cluster, excluding: a)
        return self.published(a) == want && recorder.replayed() == want && want[x] != nil
          && want[z] == nil
      })
    #expect(recorder.doubledEvents().isEmpty)
    // It got there by re-listing, not by an ordinary resume.
    #expect(await a.stats.historyLost == 1)
    #expect(await a.stats.listings == 1)
    await a.stop()
  }
}

/// Another node writes its lease over ours: we move, and its lease on the subnet we left is
/// announced again with (or after) the update that moves us, because subscribers refused it
/// while the subnet was ours.
@Suite struct TakenOverLeaseTests {
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func theLeaseOnOurOldSubnetIsAnnouncedAfterWeMove(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let a = try cluster.node("192.168.1.1")
    let first = try await a.start()
    let recorder = UpdateRecorder(a)
    let intruder = LeaseAttrs(publicIP: IPv4Address("192.168.9.9")!)
    _ = try await cluster.registry().updateLease(first.subnet, attrs: intruder, ttl: 86_400)
    #expect(await eventually { await a.ownLease?.subnet != first.subnet })
    let moved = try #require(await a.ownLease)
    #expect(
      await eventually {
        let updates = recorder.all
        guard let move = updates.firstIndex(where: { $0.ownLease?.subnet == moved.subnet })
        else { return false }
        return updates[move...].contains { update in
          update.events.contains {
            $0
              == .added(
                Lease(subnet: first.subnet, attrs: intruder, expiration: $0.lease.expiration))
          }
        }
      })
    #expect(a.table[first.subnets]?.attrs.publicIP == intruder.publicIP)
    await a.stop()
  }
}
