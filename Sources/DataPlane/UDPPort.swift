import CLibURing

#if canImport(Glibc)
  import Glibc
#endif

/// The UDP socket as the loop drives it: the receiving descriptor with its provided-buffer
/// ring and its multishot RECVMSG (one poll waiter; MSG_TRUNC, so that an oversized
/// datagram's real length is seen), the descriptor sends go out of, and the msghdrs the
/// kernel reads for them. Forwarder thread only.
final class UDPPort {
  static let group: UInt16 = 1

  let fd: Int32
  /// `fd`, or a send-only socket on another source port (so that the peer's SO_REUSEPORT
  /// group spreads what this worker sends).
  let sendFD: Int32
  let buffers: BufferRing
  let headers: MessageHeaders
  /// The multishot RECVMSG is running.
  private(set) var armed = false

  init(
    ring: Ring, fd: Int32, sendFD: Int32, bufferCount: Int, packetSize: Int, sendHeaders: Int,
    nameLength: Int = MemoryLayout<sockaddr_in>.size
  ) throws(DataPlaneError) {
    self.fd = fd
    self.sendFD = sendFD
    headers = MessageHeaders(count: sendHeaders, nameLength: nameLength)
    buffers = try BufferRing(
      ring: ring, group: Self.group, count: bufferCount,
      bufferSize: headers.receiveLayout.payloadOffset + packetSize)
  }

  /// The multishot RECVMSG ended (out of buffers, or cancelled).
  @inline(__always)
  func receiveEnded() { armed = false }

  /// Posts the RECVMSG again once it ended and buffers are there for it.
  @inline(__always)
  func arm(_ submitter: RingSubmitter) {
    guard !armed && buffers.available > 0, let sqe = submitter.sqe() else { return }
    flannel_prep_recvmsg_multishot(sqe, fd, headers.receive, UInt32(MSG_TRUNC), Self.group)
    submitter.finish(sqe, .udpReceive, 0)
    armed = true
  }

  /// Prepares a SENDMSG of a header from `headers`; false when no SQE was free.
  @inline(__always)
  func prepareSend(
    _ submitter: RingSubmitter, _ header: UnsafeMutablePointer<msghdr>,
    as operation: RingOperation, id: Int
  ) -> Bool {
    guard let sqe = submitter.sqe() else { return false }
    io_uring_prep_sendmsg(sqe, sendFD, header, 0)
    submitter.finish(sqe, operation, id)
    return true
  }
}
