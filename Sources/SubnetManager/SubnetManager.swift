import FlannelCore
import Foundation
import Logging

/// The control plane of one node: acquires its subnet lease, renews it, watches every other
/// node's lease, and publishes the subnet-to-host table after every change.
///
/// Beyond stock flanneld: a lost lease (deleted by hand, or expired) is re-acquired instead of
/// shutting the daemon down, and while etcd is unreachable the last table stays published and
/// the watch resumes from its cursor afterwards, so no event is lost or doubled.
public actor SubnetManager {
  public let registry: any LeaseRegistry
  public let network: NetworkConfig
  let configuration: SubnetManagerConfiguration
  let logger: Logger
  let broadcaster = UpdateBroadcaster()

  /// This node's lease, once acquired.
  public internal(set) var ownLease: Lease?
  /// Another node's lease that `adopt` took out of the table for our own subnet (published
  /// as removed with the re-acquisition).
  var displaced: Lease?
  /// Keys already warned about, so a bad key is reported once, not on every re-list.
  var warnedKeys: Set<String> = []
  /// Counters for logs, metrics and tests.
  public internal(set) var stats = SubnetManagerStats()
  var watchTask: Task<Void, Never>?
  /// Where the watch resumes: after this revision (v3) or index (v2); nil = list first.
  var watchCursor: Int64?
  var renewTask: Task<Void, Never>?

  public init(
    registry: any LeaseRegistry, network: NetworkConfig,
    configuration: SubnetManagerConfiguration, logger: Logger
  ) {
    self.registry = registry
    self.network = network
    self.configuration = configuration
    self.logger = logger
  }

  /// The latest table of other nodes' leases, readable from any thread without an actor hop.
  public nonisolated var table: LeaseTable { broadcaster.table }

  /// Every update from now on, starting with the current table.
  public nonisolated func updates() -> AsyncStream<LeaseUpdate> { broadcaster.subscribe() }

  /// Acquires the lease, then keeps it renewed and the table in sync until `stop()`.
  @discardableResult
  public func start() async throws -> Lease {
    let started = ContinuousClock.now
    let (lease, listing) = try await acquireWithListing(
      previous: configuration.previous(
        ipv4: configuration.previousSubnet, ipv6: configuration.previousIPv6Subnet))
    // The listing the allocation was decided on is the first table, too: one listing at
    // startup instead of two (with thousands of nodes, that halves the time to a full table).
    let events = replaceTable(with: listing)
    displaced = nil  // the first table is published whole
    watchCursor = listing.cursor
    for event in events { log(event, quietly: true) }
    publish(events: events, ownLeaseChanged: true, reconcile: true)
    logger.info(
      "Synced \(leaseCount) leases of other nodes through etcd \(registry.apiName) in \(ContinuousClock.now - started)"
    )
    scheduleRenewal()
    watchTask = Task { await self.watchLoop() }
    return lease
  }

  /// Stops the loops. The lease stays in etcd (it expires by itself, or a restarted node
  /// takes it back by PublicIP), as with stock flanneld.
  public func stop() {
    watchTask?.cancel()
    renewTask?.cancel()
    watchTask = nil
    renewTask = nil
    broadcaster.finish()
  }

  /// Applies the events to the table and hands them to subscribers (the table is never
  /// copied per event).
  func publish(events: [LeaseEvent], ownLeaseChanged: Bool, reconcile: Bool = false) {
    broadcaster.publish(
      events: events, ownLease: ownLease, ownLeaseChanged: ownLeaseChanged, reconcile: reconcile)
  }

  /// Other nodes' leases (the own subnet is never among them). The broadcaster's table is the
  /// only copy: the actor reads it, and changes it only by publishing events.
  var leaseCount: Int { broadcaster.withTable { $0.count } }

  func known(_ subnets: LeaseSubnets) -> Lease? { broadcaster.withTable { $0[subnets] } }

  func warnSkipped(_ skipped: SkippedKey) {
    guard warnedKeys.insert(skipped.key).inserted else { return }
    logger.warning("Ignoring \(skipped.key): \(skipped.reason)")
  }
}

/// What the control plane has done so far.
public struct SubnetManagerStats: Sendable, Equatable {
  /// Full listings of `<prefix>/subnets` by the watch (the first sync and every re-list).
  public var listings = 0
  /// Re-lists because etcd no longer had the watch's history (compaction, error 401).
  public var historyLost = 0
  /// Watch connections that failed and were resumed.
  public var watchErrors = 0
  public var renewals = 0
  public var renewalErrors = 0
  /// Own lease lost and acquired again.
  public var reacquisitions = 0
}

/// Errors of the subnet manager itself (etcd and allocation errors pass through as they are).
public enum SubnetManagerError: Error, Sendable, CustomStringConvertible {
  case maxRetriesReached(attempts: Int)

  public var description: String {
    switch self {
    case .maxRetriesReached(let attempts):
      return
        "Max retries reached trying to acquire a subnet (\(attempts) attempts lost the race to other nodes); try again"
    }
  }
}
