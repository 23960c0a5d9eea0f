import CLibURing
import CSystemShims

#if canImport(Glibc)
  import Glibc
#endif

/// A thin owner of one io_uring (liburing). The `struct io_uring` lives in memory allocated
/// here, never inside a Swift object, because liburing keeps pointers into it.
///
/// Not thread-safe: with IORING_SETUP_SINGLE_ISSUER only one thread may submit. The ring is
/// created disabled (IORING_SETUP_R_DISABLED) so that it can be built on one thread and
/// `enable()`d on the thread that will use it; the kernel then binds the submitter to that
/// thread.
public final class Ring {
  public let ring: UnsafeMutablePointer<io_uring>
  /// The setup flags the kernel accepted.
  public let setupFlags: UInt32
  /// True when the preferred SINGLE_ISSUER | DEFER_TASKRUN setup was accepted.
  public var singleIssuer: Bool { setupFlags & IORING_SETUP_SINGLE_ISSUER != 0 }

  /// `entries` submission slots (rounded up to a power of two by the kernel); the completion
  /// queue is twice that. Falls back to a plain ring when the kernel refuses the flags (< 6.1).
  public init(entries: UInt32) throws(DataPlaneError) {
    ring = .allocate(capacity: 1)
    let preferred =
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED
    var accepted: UInt32 = 0
    var result: Int32 = -EINVAL
    for flags in [preferred, 0] {
      var params = io_uring_params()
      params.flags = flags
      result = io_uring_queue_init_params(entries, ring, &params)
      if result == 0 {
        accepted = flags
        break
      }
      if result != -EINVAL { break }
    }
    guard result == 0 else {
      ring.deallocate()
      throw DataPlaneError("io_uring_queue_init_params(\(entries))", errno: -result)
    }
    setupFlags = accepted
  }

  deinit {
    io_uring_queue_exit(ring)
    ring.deallocate()
  }

  /// Binds the ring to the calling thread and enables it (no-op for a ring created enabled).
  public func enable() throws(DataPlaneError) {
    guard setupFlags & IORING_SETUP_R_DISABLED != 0 else { return }
    let result = flannel_io_uring_enable_rings(ring.pointee.ring_fd)
    if result < 0 { throw DataPlaneError("io_uring_enable_rings", errno: -result) }
  }

  /// Next free submission entry, or nil when the submission queue is full.
  @inline(__always)
  public func sqe() -> UnsafeMutablePointer<io_uring_sqe>? { io_uring_get_sqe(ring) }

  /// Submits queued entries and waits for at least `count` completions. Returns the number of
  /// entries submitted, or -errno (hot path: no throw).
  @inline(__always)
  public func submitAndWait(_ count: UInt32) -> Int32 { io_uring_submit_and_wait(ring, count) }

  /// Runs the deferred task work (with DEFER_TASKRUN, data that reached the TUN or the socket
  /// becomes completions only when the task enters the kernel) without waiting; -errno or ≥ 0.
  @inline(__always)
  public func getEvents() -> Int32 { io_uring_get_events(ring) }

  /// Completions ready to be reaped.
  @inline(__always)
  public var completionsReady: UInt32 { io_uring_cq_ready(ring) }

  /// Submits queued entries without waiting; returns the number submitted or -errno.
  @inline(__always)
  public func submit() -> Int32 { io_uring_submit(ring) }

  /// Fills `cqes` with up to `capacity` ready completions and returns how many.
  @inline(__always)
  public func peek(
    _ cqes: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>, capacity: UInt32
  ) -> Int {
    Int(io_uring_peek_batch_cqe(ring, cqes, capacity))
  }

  /// Marks `count` completions consumed.
  @inline(__always)
  public func advance(_ count: Int) { io_uring_cq_advance(ring, UInt32(count)) }

  /// Registers `fds` as fixed files, each at the index of its own number (a sparse table of
  /// max + 1 slots): an SQE then names a descriptor by the same number plus
  /// IOSQE_FIXED_FILE, and the kernel skips the per-request file lookup and reference count.
  /// False (nothing left registered) when the kernel refuses.
  public func registerFilesAtTheirNumbers(_ fds: [Int32]) -> Bool {
    guard let highest = fds.max(), highest >= 0, fds.allSatisfy({ $0 >= 0 }) else { return false }
    guard io_uring_register_files_sparse(ring, UInt32(highest) + 1) == 0 else { return false }
    for fd in fds {
      var descriptor = fd
      if io_uring_register_files_update(ring, UInt32(fd), &descriptor, 1) != 1 {
        _ = io_uring_unregister_files(ring)
        return false
      }
    }
    return true
  }

  /// Drops the fixed-file table (its references to the descriptors go with it).
  public func unregisterFiles() { _ = io_uring_unregister_files(ring) }

  /// True when the kernel supports `opcode` (io_uring_get_probe_ring).
  public func supports(_ opcode: io_uring_op) -> Bool { supports(opcode: Int32(opcode.rawValue)) }

  /// The same for an opcode liburing 2.3 does not name (e.g. 49, READ_MULTISHOT).
  public func supports(opcode: Int32) -> Bool {
    guard let probe = io_uring_get_probe_ring(ring) else { return false }
    defer { io_uring_free_probe(probe) }
    return io_uring_opcode_supported(probe, opcode) != 0
  }
}
