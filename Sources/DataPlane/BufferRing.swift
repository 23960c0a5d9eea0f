import CLibURing

#if canImport(Glibc)
  import Glibc
#endif

/// A provided-buffer ring: `count` equal buffers the kernel picks from itself for READ /
/// RECVMSG requests posted with buffer selection on `group`. A completion names the buffer it
/// filled (`IORING_CQE_F_BUFFER`, id in the flags' high 16 bits); from then on the buffer is
/// ours until `recycle(_:)` queues it again and `publish()` hands the queued ones back.
///
/// Bookkeeping: every buffer is either with the kernel (`available` of them) or held by the
/// forwarder (taken by a completion, not yet recycled). Not thread-safe: forwarder thread
/// only, and the ring it is registered with must outlive it.
final class BufferRing {
  let group: UInt16
  let count: Int
  /// Bytes the kernel may fill per buffer.
  let bufferSize: Int
  /// Bytes before each buffer the kernel never writes: room to put a header in front of what
  /// it filled in (a WireGuard transport header before a packet read from the TUN).
  let headroom: Int
  /// Distance between buffers: the buffer, caller scratch space behind it, and a skew so that
  /// consecutive buffers do not start on the same cache set.
  let stride: Int
  let scratchSize: Int
  let memory: UnsafeMutableRawPointer
  /// Buffers the kernel can still pick (published, not yet taken by a completion).
  private(set) var available = 0
  /// Recycled since the last `publish()`.
  private(set) var queued = 0
  /// Kept alive: the registration must be undone before the ring goes.
  private let ring: Ring
  private let descriptors: UnsafeMutablePointer<io_uring_buf_ring>

  /// Registers a ring of `count` buffers (a power of two, ≤ 32768) of `bufferSize` bytes, each
  /// preceded by `headroom` and followed by `scratchSize` bytes the kernel never writes, and
  /// gives all of them to the kernel.
  init(
    ring: Ring, group: UInt16, count: Int, bufferSize: Int, scratchSize: Int = 0,
    headroom: Int = 0
  ) throws(DataPlaneError) {
    guard count > 0, count <= 32768, count & (count - 1) == 0 else {
      throw DataPlaneError("buffer ring \(group) with \(count) buffers", errno: EINVAL)
    }
    self.group = group
    self.count = count
    self.bufferSize = bufferSize
    self.scratchSize = scratchSize
    self.headroom = headroom
    stride = ((headroom + bufferSize + scratchSize + 63) & ~63) + 64
    self.ring = ring
    var error: Int32 = 0
    guard
      let descriptors = flannel_buf_ring_setup(ring.ring, UInt32(count), group, &error)
    else {
      throw DataPlaneError("register buffer ring \(group) (\(count) buffers)", errno: -error)
    }
    self.descriptors = descriptors
    memory = .allocate(byteCount: count * stride, alignment: 4096)
    for id in 0..<count { recycle(id) }
    publish()
  }

  deinit {
    flannel_buf_ring_free(ring.ring, descriptors, UInt32(count), group)
    memory.deallocate()
  }

  @inline(__always)
  func buffer(_ id: Int) -> UnsafeMutableRawPointer { memory + (id &* stride &+ headroom) }

  /// Where the buffers lie, for code that reads packets without the ring.
  var layout: PacketBuffers {
    PacketBuffers(base: memory + headroom, stride: stride, bufferSize: bufferSize)
  }

  @inline(__always)
  func scratch(_ id: Int) -> UnsafeMutableRawPointer { buffer(id) + bufferSize }

  /// The buffer a completion carries, or nil when it carries none. Counts it as taken.
  @inline(__always)
  func take(flags: UInt32) -> Int? {
    guard flags & IORING_CQE_F_BUFFER != 0 else { return nil }
    available &-= 1
    return Int(flags >> IORING_CQE_BUFFER_SHIFT)
  }

  /// Queues a taken buffer for the kernel; it becomes visible at the next `publish()`.
  @inline(__always)
  func recycle(_ id: Int) {
    flannel_buf_ring_add(
      descriptors, buffer(id), UInt32(bufferSize), UInt16(truncatingIfNeeded: id), UInt32(count),
      Int32(truncatingIfNeeded: queued))
    queued &+= 1
  }

  /// Hands every queued buffer to the kernel with one tail update.
  @inline(__always)
  func publish() {
    guard queued > 0 else { return }
    flannel_buf_ring_advance(descriptors, Int32(truncatingIfNeeded: queued))
    available &+= queued
    queued = 0
  }
}
