import Synchronization

/// Whether `/readyz` answers 200: an atomic, so answering never waits on anything the
/// data plane or the etcd loop holds.
final class HealthReadiness: Sendable {
  private let flag = Atomic<Bool>(false)

  var isReady: Bool { flag.load(ordering: .acquiring) }

  func mark(_ ready: Bool) { flag.store(ready, ordering: .releasing) }
}
