import CSystemShims

#if canImport(Glibc)
  import Glibc
#endif

/// The forwarder's counters as two fixed arrays of UInt64 slots indexed by `Counter`: `local`
/// is written only by the forwarder thread, per packet, as plain memory; `published` is copied
/// from it once per batch with relaxed stores (no locked RMW) and read by anyone.
final class CounterBank: @unchecked Sendable {
  // @unchecked: `local` belongs to the forwarder thread; `published` is accessed only through
  // relaxed atomic loads and stores.
  let local: UnsafeMutablePointer<UInt64>
  private let published: UnsafeMutablePointer<UInt64>
  static let count = Counter.allCases.count

  init() {
    local = .allocate(capacity: Self.count)
    local.initialize(repeating: 0, count: Self.count)
    published = .allocate(capacity: Self.count)
    published.initialize(repeating: 0, count: Self.count)
  }

  deinit {
    local.deallocate()
    published.deallocate()
  }

  @inline(__always)
  func add(_ counter: Counter, _ amount: UInt64 = 1) {
    local[counter.rawValue] &+= amount
  }

  /// Forwarder thread only.
  func publish() {
    for i in 0..<Self.count { flannel_store_relaxed_u64(published + i, local[i]) }
  }

  /// Any thread.
  func snapshot() -> ForwarderCounters {
    var s = ForwarderCounters()
    for counter in Counter.allCases {
      s[counter] = flannel_load_relaxed_u64(published + counter.rawValue)
    }
    return s
  }
}

extension CounterBank {
  /// A read or receive completion without data: out of buffers (the multishot request ended
  /// and is re-armed), EAGAIN (posted again), cancelled at stop (not counted), or an error.
  @inline(__always)
  func countReadFailure(_ result: Int32) {
    if result == -ENOBUFS {
      add(.bufferShortages)
    } else if result == -EAGAIN {
      add(.readRetries)
    } else if result < 0 && result != -ECANCELED {
      add(.readErrors)
    }
  }
}
