#if canImport(Glibc)
  import Glibc
#endif

/// What a pipeline decided; the loop carries the intents out in order (prepares the SQEs,
/// hands buffers back). Everything an intent points at is kept by its pipeline until the
/// request completes.
enum LoopIntent: Equatable {
  /// A SENDMSG of a prepared header: a run of packets, or a chunk of a split super-packet.
  case send(UnsafeMutablePointer<msghdr>, RingOperation, id: Int)
  /// A WRITE into the TUN: an ICMP reply, or a packet without a virtio header.
  case write(UnsafeMutableRawPointer, length: Int, RingOperation, id: Int)
  /// A WRITEV into the TUN: [virtio header, packet], or a coalesced super-packet.
  case writev(UnsafeMutablePointer<iovec>, count: Int, RingOperation, id: Int)
  /// A buffer is done with and goes back to the kernel.
  case recycleTun(Int)
  case recycleUDP(Int)
  /// A refusal turned offloads off: TUNSETOFFLOAD, the mirror for other threads, notices.
  case offloadsOff(OffloadState.Decision, after: OffloadState.Operation, errno: Int32)
}

/// The intents of one completion, in a fixed array (nothing allocated per packet). The most
/// one completion produces: a datagram train's 64 writes plus a flush and its buffer, or a
/// refused GSO run's 64 sends plus the run being built — `capacity` leaves room to spare.
final class LoopIntents {
  static let capacity = 256
  private let storage: UnsafeMutablePointer<LoopIntent>
  private(set) var count = 0

  init() {
    storage = .allocate(capacity: Self.capacity)
  }

  deinit {
    storage.deinitialize(count: count)
    storage.deallocate()
  }

  @inline(__always)
  func append(_ intent: LoopIntent) {
    // Bounded by construction (see above); past it an intent would be lost with its buffer.
    assert(count < Self.capacity, "more intents than one completion can produce")
    guard count < Self.capacity else { return }
    (storage + count).initialize(to: intent)
    count &+= 1
  }

  @inline(__always)
  subscript(_ i: Int) -> LoopIntent { storage[i] }

  /// Empties the list (the intents are plain values: nothing to release).
  @inline(__always)
  func removeAll() {
    storage.deinitialize(count: count)
    count = 0
  }

  /// The intents so far, for tests.
  var all: [LoopIntent] { (0..<count).map { storage[$0] } }
}

/// The forwarder's offload switches, shared by its two pipelines (one thread: no lock).
final class SharedOffloadState {
  var state: OffloadState
  init(_ state: OffloadState) { self.state = state }

  /// Asks `state` what a refused offloaded operation means; queues any offload it turned off.
  @inline(never)
  func failed(
    _ operation: OffloadState.Operation, errno: Int32, _ intents: LoopIntents
  ) -> OffloadState.Action {
    let decision = state.failed(operation, errno: errno)
    if !decision.turnedOff.isEmpty {
      intents.append(.offloadsOff(decision, after: operation, errno: errno))
    }
    return decision.action
  }
}
