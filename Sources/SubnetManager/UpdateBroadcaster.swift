import FlannelCore
import Synchronization

/// Hands every `LeaseUpdate` to each subscriber, and keeps the latest table readable without
/// an actor hop (the data plane and health endpoints read it from any thread).
final class UpdateBroadcaster: Sendable {
  private struct State {
    var latest = LeaseUpdate(
      events: [], table: LeaseTable([]), ownLease: nil, ownLeaseChanged: false)
    var subscribers: [Int: AsyncStream<LeaseUpdate>.Continuation] = [:]
    var nextID = 0
    var finished = false
  }
  private let state = Mutex(State())

  var latest: LeaseUpdate { state.withLock { $0.latest } }

  func publish(_ update: LeaseUpdate) {
    let targets = state.withLock { s -> [AsyncStream<LeaseUpdate>.Continuation] in
      // Keep the table, not the events: a late subscriber gets the table as events anyway.
      s.latest = LeaseUpdate(
        events: [], table: update.table, ownLease: update.ownLease,
        ownLeaseChanged: update.ownLeaseChanged)
      return Array(s.subscribers.values)
    }
    for continuation in targets { continuation.yield(update) }
  }

  /// A new subscriber first receives the current table as `added` events, then every update.
  func subscribe() -> AsyncStream<LeaseUpdate> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: LeaseUpdate.self, bufferingPolicy: .unbounded)
    let id = state.withLock { s -> Int? in
      guard !s.finished else { return nil }
      let id = s.nextID
      s.nextID += 1
      s.subscribers[id] = continuation
      let current = s.latest
      continuation.yield(
        LeaseUpdate(
          events: current.table.leases.map { .added($0) }, table: current.table,
          ownLease: current.ownLease, ownLeaseChanged: current.ownLease != nil))
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
