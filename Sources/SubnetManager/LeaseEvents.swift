import FlannelCore

/// A change to another node's lease. The node's own lease never appears here: it is
/// reported through `LeaseUpdate.ownLease`.
public enum LeaseEvent: Sendable, Equatable {
  /// A new lease, or a lease whose attributes changed (the new value).
  case added(Lease)
  /// A lease deleted or expired (the last value we knew).
  case removed(Lease)
}

/// What the subnet manager publishes after every change: the events in etcd's order, the
/// complete table after them, and this node's lease (which a re-acquisition may change).
public struct LeaseUpdate: Sendable, Equatable {
  public let events: [LeaseEvent]
  public let table: LeaseTable
  public let ownLease: Lease?
  /// True when this node's lease changed with this update (re-acquired or moved).
  public let ownLeaseChanged: Bool

  public init(events: [LeaseEvent], table: LeaseTable, ownLease: Lease?, ownLeaseChanged: Bool) {
    self.events = events
    self.table = table
    self.ownLease = ownLease
    self.ownLeaseChanged = ownLeaseChanged
  }
}
