import Synchronization

/// The route table's exchange.
typealias RouteExchange = SnapshotExchange<RouteSnapshot>

/// Hands immutable snapshots (route tables, WireGuard session tables) from the control plane
/// to ONE forwarder thread without a lock on the forwarder's side: an atomic pointer plus a
/// one-slot hazard pointer (one reader: each forwarder has its own exchange).
///
/// - `current` holds a +1 retained snapshot (as an opaque pointer).
/// - The forwarder announces the snapshot it uses in `hazard`, then re-reads `current`; if it
///   changed in between it announces the newer one (classic hazard-pointer protocol, all
///   sequentially consistent so the control plane either sees the announcement or the
///   forwarder sees the swap).
/// - `publish` swaps in the new snapshot and parks the old one in `retired`; retired snapshots
///   are released once they are no longer the hazard. At most one stays parked for as long as
///   the forwarder has not run a batch since.
final class SnapshotExchange<Snapshot: AnyObject & Sendable>: Sendable {
  private let current: Atomic<UInt>
  private let hazard = Atomic<UInt>(0)
  private let retired = Mutex<[UInt]>([])

  init(_ initial: Snapshot) {
    current = Atomic(UInt(bitPattern: Unmanaged.passRetained(initial).toOpaque()))
  }

  deinit {
    release(current.load(ordering: .sequentiallyConsistent))
    retired.withLock { list in
      for pointer in list { release(pointer) }
      list.removeAll()
    }
  }

  /// Control plane, any thread.
  func publish(_ snapshot: Snapshot) {
    let new = UInt(bitPattern: Unmanaged.passRetained(snapshot).toOpaque())
    retired.withLock { list in
      list.append(current.exchange(new, ordering: .sequentiallyConsistent))
      let inUse = hazard.load(ordering: .sequentiallyConsistent)
      list.removeAll { pointer in
        guard pointer != inUse else { return false }
        release(pointer)
        return true
      }
    }
  }

  /// Forwarder thread: the snapshot to use for the next batch. `cached` is what the forwarder
  /// used last; the fast path is one atomic load.
  @inline(__always)
  func acquire(cached: UInt) -> UInt {
    var pointer = current.load(ordering: .acquiring)
    if pointer == cached { return pointer }
    while true {
      hazard.store(pointer, ordering: .sequentiallyConsistent)
      let again = current.load(ordering: .sequentiallyConsistent)
      if again == pointer { return pointer }
      pointer = again
    }
  }

  /// The snapshot currently published (control plane side, for diagnostics).
  func latest() -> Snapshot {
    retired.withLock { _ in snapshot(current.load(ordering: .sequentiallyConsistent)) }
  }

  @inline(__always)
  func snapshot(_ pointer: UInt) -> Snapshot {
    Unmanaged<Snapshot>.fromOpaque(UnsafeRawPointer(bitPattern: pointer)!)
      .takeUnretainedValue()
  }

  private func release(_ pointer: UInt) {
    guard let raw = UnsafeRawPointer(bitPattern: pointer) else { return }
    Unmanaged<Snapshot>.fromOpaque(raw).release()
  }
}
