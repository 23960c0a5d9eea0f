/// Groups consecutive tun → udp packets into runs that one SENDMSG with UDP GSO
/// (`UDP_SEGMENT`) can carry: same next hop, every packet as long as the first except that the
/// last may be shorter, at most `maxSegments` packets and `maxPayload` bytes. The kernel cuts
/// such a send into the same datagrams a send per packet would produce (the wire format is
/// unchanged), but builds, routes and hands down one buffer chain instead of one per packet.
///
/// Pure bookkeeping over buffer ids (no I/O): a run is a chain `head → next[head] → … → -1`
/// with the packet lengths beside it; the send's completion walks the chain to recycle the
/// buffers. Whether a run may grow at all is the caller's to say (`OffloadState`). Forwarder
/// thread only.
final class SegmentRuns {
  /// The kernel's UDP_MAX_SEGMENTS was 64 before 2024 (128 since).
  static let maxSegments = 64
  /// Largest IPv4 UDP payload: 65535 − 20 − 8.
  static let maxPayload = 65507

  let capacity: Int
  /// Per buffer id: the next id of its run, or -1.
  let next: UnsafeMutablePointer<Int32>
  /// Per buffer id: the packet's length.
  let lengths: UnsafeMutablePointer<Int32>
  let maxSegments: Int

  /// The run being built (head -1: none).
  private(set) var head = -1
  private(set) var tail = -1
  private(set) var count = 0
  private(set) var segmentSize = 0
  private(set) var bytes = 0
  /// Next hop of the run, `address << 16 | port` as in the sockaddr (any fixed encoding).
  private(set) var destination: UInt64 = 0
  /// A shorter packet ended the run: nothing may follow it.
  private var closed = false

  init(capacity: Int, maxSegments: Int = SegmentRuns.maxSegments) {
    self.capacity = capacity
    self.maxSegments = max(1, min(maxSegments, Self.maxSegments))
    next = .allocate(capacity: capacity)
    next.initialize(repeating: -1, count: capacity)
    lengths = .allocate(capacity: capacity)
    lengths.initialize(repeating: 0, count: capacity)
  }

  deinit {
    next.deallocate()
    lengths.deallocate()
  }

  var isEmpty: Bool { head < 0 }

  /// True when packet `id` (`length` bytes to `destination`) was appended to the current run;
  /// false when the caller must send the current run (if any) and then `start` a new one.
  @inline(__always)
  func append(_ id: Int, length: Int, destination: UInt64) -> Bool {
    guard head >= 0, !closed, destination == self.destination,
      length <= segmentSize, count < maxSegments,
      bytes &+ length <= Self.maxPayload
    else { return false }
    next[tail] = Int32(truncatingIfNeeded: id)
    next[id] = -1
    lengths[id] = Int32(truncatingIfNeeded: length)
    tail = id
    count &+= 1
    bytes &+= length
    if length < segmentSize { closed = true }
    return true
  }

  /// Begins a run with packet `id`; with `mayGrow` false it stays one packet. The previous run
  /// must have been taken.
  @inline(__always)
  func start(_ id: Int, length: Int, destination: UInt64, mayGrow: Bool = true) {
    head = id
    tail = id
    next[id] = -1
    lengths[id] = Int32(truncatingIfNeeded: length)
    count = 1
    segmentSize = length
    bytes = length
    self.destination = destination
    closed = !mayGrow
  }

  /// Ends the current run and returns its head, packet count and segment size (nil: none).
  @inline(__always)
  func take() -> (head: Int, count: Int, segmentSize: Int)? {
    guard head >= 0 else { return nil }
    let run = (head, count, segmentSize)
    head = -1
    tail = -1
    count = 0
    return run
  }
}
