import FlannelCore

/// A change to another node's lease. The node's own lease never appears here: it is
/// reported through `LeaseUpdate.ownLease`.
public enum LeaseEvent: Sendable, Equatable {
  /// A new lease, or a lease whose attributes changed (the new value).
  case added(Lease)
  /// A lease deleted or expired (the last value we knew).
  case removed(Lease)

  public var lease: Lease {
    switch self {
    case .added(let lease), .removed(let lease): return lease
    }
  }
}

/// What the subnet manager publishes after every change: the events in etcd's order and this
/// node's lease (which a re-acquisition may change). Applying every update's events in order
/// to an empty table gives the table of other nodes' leases; a subscriber's first update
/// carries the whole table as `added` events.
///
/// No table travels with an update: a join in a 20,000-node cluster is one event, and
/// copying the table for it would cost more than the kernel change it causes.
public struct LeaseUpdate: Sendable, Equatable {
  public let events: [LeaseEvent]
  /// Leases of other nodes after these events.
  public let leaseCount: Int
  public let ownLease: Lease?
  /// True when this node's lease changed with this update (re-acquired or moved).
  public let ownLeaseChanged: Bool
  /// True when the subscriber should bring everything it derives from the table (kernel
  /// state, forwarding entries) in line with the whole table after these events, instead of
  /// touching only what the events name: the first update, and after a re-list because etcd
  /// lost the watch's history (events may have been missed while the watch was away).
  public let reconcile: Bool

  public init(
    events: [LeaseEvent], leaseCount: Int, ownLease: Lease?, ownLeaseChanged: Bool,
    reconcile: Bool = false
  ) {
    self.events = events
    self.leaseCount = leaseCount
    self.ownLease = ownLease
    self.ownLeaseChanged = ownLeaseChanged
    self.reconcile = reconcile
  }
}
