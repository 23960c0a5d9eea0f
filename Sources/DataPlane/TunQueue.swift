import CLibURing

#if canImport(Glibc)
  import Glibc
#endif

/// One queue of the TUN device as the loop drives it: its descriptor, its provided-buffer
/// ring (with room behind each buffer for the ICMP reply to that buffer's packet), the read
/// kept posted on it, and the preparation of writes into it. Forwarder thread only.
///
/// The TUN is read by one multishot READ filling provided buffers: one poll waiter. Where the
/// kernel lacks it (< 6.7), a few one-shot READs stay posted instead — few, because every
/// posted read is woken per packet, and one that loses that race 128 times in a row is handed
/// to an `iou-wrk` thread (perf-notes §2.1).
final class TunQueue {
  static let group: UInt16 = 0
  /// Behind each buffer: where the ICMP reply to that buffer's packet is built.
  static let scratchSize = 128

  let fd: Int32
  let buffers: BufferRing
  /// Bytes of `VirtioNetHeader` before every packet (0 without IFF_VNET_HDR).
  let virtioHeaderSize: Int
  let multishot: Bool
  /// One-shot READs kept posted when not `multishot`.
  let readDepth: Int
  /// The multishot READ is running.
  private(set) var armed = false
  /// One-shot READs posted.
  private(set) var posted = 0

  init(
    ring: Ring, fd: Int32, bufferCount: Int, packetSize: Int, virtioHeaderSize: Int,
    multishot: Bool, readDepth: Int, headroom: Int = 0
  ) throws(DataPlaneError) {
    self.fd = fd
    self.virtioHeaderSize = virtioHeaderSize
    self.multishot = multishot
    self.readDepth = readDepth
    buffers = try BufferRing(
      ring: ring, group: Self.group, count: bufferCount,
      bufferSize: packetSize + virtioHeaderSize, scratchSize: Self.scratchSize,
      headroom: headroom)
  }

  /// A read's final completion arrived (the multishot one ended, or a one-shot one).
  @inline(__always)
  func readEnded() {
    if multishot { armed = false } else { posted &-= 1 }
  }

  /// Posts the read(s) that ended, once buffers are there for them.
  @inline(__always)
  func arm(_ submitter: RingSubmitter) {
    if multishot {
      if !armed && buffers.available > 0, let sqe = submitter.sqe() {
        flannel_prep_read_multishot(sqe, fd, Self.group)
        submitter.finish(sqe, .tunRead, 0)
        armed = true
      }
      return
    }
    while posted < readDepth && posted < buffers.available, let sqe = submitter.sqe() {
      flannel_prep_read_select(sqe, fd, UInt32(buffers.bufferSize), Self.group)
      submitter.finish(sqe, .tunRead, 0)
      posted &+= 1
    }
  }

  /// Prepares a WRITE of `length` bytes at `bytes`; false when no SQE was free.
  @inline(__always)
  func prepareWrite(
    _ submitter: RingSubmitter, _ bytes: UnsafeMutableRawPointer, length: Int,
    as operation: RingOperation, id: Int
  ) -> Bool {
    guard let sqe = submitter.sqe() else { return false }
    io_uring_prep_write(sqe, fd, bytes, UInt32(truncatingIfNeeded: length), 0)
    submitter.finish(sqe, operation, id)
    return true
  }

  /// Prepares a WRITEV of `count` iovecs (kept by the caller until it completes); false when
  /// no SQE was free.
  @inline(__always)
  func prepareWritev(
    _ submitter: RingSubmitter, _ vectors: UnsafeMutablePointer<iovec>, count: Int,
    as operation: RingOperation, id: Int
  ) -> Bool {
    guard let sqe = submitter.sqe() else { return false }
    io_uring_prep_writev(sqe, fd, vectors, UInt32(truncatingIfNeeded: count), 0)
    submitter.finish(sqe, operation, id)
    return true
  }
}
