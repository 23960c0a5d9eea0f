import FlannelCore
import Synchronization

/// Holds the table of other nodes' leases (the only copy: published events change it) and
/// hands every `LeaseUpdate` to each subscriber. The table is readable from any thread without
/// an actor hop, and a late subscriber starts from it.
final class UpdateBroadcaster: Sendable {
  private struct State {
    var table = LeaseTable()
    var ownLease: Lease?
    var subscribers: [Int: AsyncStream<LeaseUpdate>.Continuation] = [:]
    var nextID = 0
    var finished = false
  }
  private let state = Mutex(State())

  /// A copy of the table (shares storage until the next event changes it).
  var table: LeaseTable { state.withLock { $0.table } }

  /// Reads the table in place.
  func withTable<R>(_ body: (LeaseTable) -> R) -> R { state.withLock { body($0.table) } }

  /// Applies the events to the table and hands them to every subscriber.
  func publish(events: [LeaseEvent], ownLease: Lease?, ownLeaseChanged: Bool, reconcile: Bool) {
    let (update, targets) = state.withLock { s in
      for event in events {
        switch event {
        case .added(let lease): s.table.insert(lease)
        case .removed(let lease): s.table.remove(lease.subnets)
        }
      }
      s.ownLease = ownLease
      let update = LeaseUpdate(
        events: events, leaseCount: s.table.count, ownLease: ownLease,
        ownLeaseChanged: ownLeaseChanged, reconcile: reconcile)
      return (update, Array(s.subscribers.values))
    }
    for continuation in targets { continuation.yield(update) }
  }

  /// A new subscriber first receives the current table as `added` events (to reconcile
  /// against), then every update.
  func subscribe() -> AsyncStream<LeaseUpdate> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: LeaseUpdate.self, bufferingPolicy: .unbounded)
    let id = state.withLock { s -> Int? in
      guard !s.finished else { return nil }
      let id = s.nextID
      s.nextID += 1
      s.subscribers[id] = continuation
      continuation.yield(
        LeaseUpdate(
          events: s.table.leases.map { .added($0) }, leaseCount: s.table.count,
          ownLease: s.ownLease, ownLeaseChanged: s.ownLease != nil, reconcile: true))
      return id
    }
    guard let id else {
      continuation.finish()
      return stream
    }
    continuation.onTermination = { [weak self] _ in
      _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
    }
    return stream
  }

  func finish() {
    let targets = state.withLock { s -> [AsyncStream<LeaseUpdate>.Continuation] in
      s.finished = true
      defer { s.subscribers.removeAll() }
      return Array(s.subscribers.values)
    }
    for continuation in targets { continuation.finish() }
  }
}
