import CLibURing

/// The loop's side of the submission queue: hands out SQEs (submitting what is queued when
/// the queue is full), tags each with its operation and id, marks it as naming a registered
/// file, and counts the operations in flight (a multishot one counts once, until its final
/// completion) so that the loop knows when a drain is complete. Forwarder thread only.
final class RingSubmitter {
  let ring: Ring
  let bank: CounterBank
  /// Every descriptor the loop names is a registered file at its own number.
  let fixedFiles: Bool
  private(set) var inFlight = 0

  init(ring: Ring, bank: CounterBank, fixedFiles: Bool) {
    self.ring = ring
    self.bank = bank
    self.fixedFiles = fixedFiles
  }

  /// A submission entry; when the queue is full (it should not be: the ring has a slot per
  /// buffer plus the re-arms), submits what is queued first.
  @inline(__always)
  func sqe() -> UnsafeMutablePointer<io_uring_sqe>? {
    if let sqe = ring.sqe() { return sqe }
    let submitted = ring.submit()
    bank.add(.submissions)
    if submitted > 0 { bank.add(.sqesSubmitted, UInt64(submitted)) }
    return ring.sqe()
  }

  /// Tags a prepared request that names one of the registered descriptors.
  @inline(__always)
  func finish(_ sqe: UnsafeMutablePointer<io_uring_sqe>, _ operation: RingOperation, _ id: Int) {
    io_uring_sqe_set_data64(sqe, operation.userData(id))
    if fixedFiles { sqe.pointee.flags |= UInt8(truncatingIfNeeded: 1 << IOSQE_FIXED_FILE_BIT) }
    inFlight &+= 1
  }

  /// Posts the cancel of every request in flight (it names no descriptor).
  func cancelAll() {
    guard let sqe = sqe() else { return }
    io_uring_prep_cancel64(sqe, 0, Int32(IORING_ASYNC_CANCEL_ANY))
    io_uring_sqe_set_data64(sqe, RingOperation.cancel.userData(0))
    inFlight &+= 1
  }

  /// A request's final completion arrived.
  @inline(__always)
  func ended() { inFlight &-= 1 }
}
