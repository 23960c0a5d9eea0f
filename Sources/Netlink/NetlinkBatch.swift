import CLibMnl
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// Many kernel changes sent together: messages are copied into one buffer and go out in
/// chunks (`maxMessages` per `sendto`); each message asks for an acknowledgement, and the
/// acknowledgements are matched to their messages by sequence number. A refused change never
/// stops the others; each comes back as a failure carrying the caller's `tag` and an error
/// naming the object.
///
/// Memory stays bounded whatever the count: a chunk is sent as soon as it is full, and only
/// the open chunk's messages are kept.
public final class NetlinkBatch<Tag> {
  /// Acknowledgements of one chunk must fit the socket's receive buffer (≈ 1 KiB of buffer
  /// each), and a chunk must fit one netlink datagram.
  static var maxMessages: Int { 128 }
  static var capacity: Int { 16_384 }

  private let socket: NetlinkSocket
  private let chunk: UnsafeMutableRawPointer
  private var used = 0
  private var pending: [(change: NetlinkChange, tag: Tag)] = []
  public private(set) var failures: [(tag: Tag, error: NetlinkError)] = []
  /// Messages sent so far (for logs and tests).
  public private(set) var sent = 0

  init(socket: NetlinkSocket) {
    self.socket = socket
    chunk = UnsafeMutableRawPointer.allocate(byteCount: Self.capacity, alignment: 8)
    pending.reserveCapacity(Self.maxMessages)
  }

  deinit { chunk.deallocate() }

  /// Queues a change; sends the open chunk first when the change does not fit it.
  public func add(_ change: NetlinkChange, tag: Tag) {
    let length = Int(change.request.header.pointee.nlmsg_len)
    if pending.count == Self.maxMessages || used + length > Self.capacity { flush() }
    (chunk + used).copyMemory(from: change.request.header, byteCount: length)
    used += (length + 3) & ~3
    pending.append((change, tag))
  }

  /// Sends what is queued and collects its acknowledgements.
  func flush() {
    guard !pending.isEmpty else { return }
    let codes = socket.sendChunk(chunk, length: used, count: pending.count)
    for (index, code) in codes.enumerated() where code != 0 {
      failures.append((pending[index].tag, pending[index].change.error(code)))
    }
    sent += pending.count
    pending.removeAll(keepingCapacity: true)
    used = 0
  }
}

extension NetlinkSocket {
  /// Drops answers still queued from a batch that gave up waiting for them (a timeout), so
  /// that they are never taken for the answer of a later request. Lock held.
  func discardUnreadAnswers() {
    let fd = mnl_socket_get_fd(socket)
    while recv(fd, buffer, Self.receiveBufferSize, Int32(MSG_DONTWAIT)) > 0 {}
  }

  /// Runs `build`, which adds changes to a batch, sends them all and returns the batch with
  /// its failures (empty when the kernel took every change).
  public func batch<Tag>(_ build: (NetlinkBatch<Tag>) -> Void) -> NetlinkBatch<Tag> {
    let batch = NetlinkBatch<Tag>(socket: self)
    build(batch)
    batch.flush()
    return batch
  }

  /// Sends `count` messages laid out in `chunk` with consecutive sequence numbers and
  /// NLM_F_ACK, and returns each one's result: 0 or the kernel's errno.
  func sendChunk(_ chunk: UnsafeMutableRawPointer, length: Int, count: Int) -> [Int32] {
    lock.lock()
    defer { lock.unlock() }
    discardUnreadAnswers()
    let first = sequence &+ 1
    var offset = 0
    for _ in 0..<count {
      let header = (chunk + offset).assumingMemoryBound(to: nlmsghdr.self)
      sequence &+= 1
      header.pointee.nlmsg_seq = sequence
      header.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
      offset += (Int(header.pointee.nlmsg_len) + 3) & ~3
    }
    var results = [Int32](repeating: -1, count: count)
    guard mnl_socket_sendto(socket, chunk, length) >= 0 else {
      let code = errno
      return [Int32](repeating: code, count: count)
    }
    var acknowledged = 0
    while acknowledged < count {
      let received: Int
      do throws(SystemCallError) {
        received = try retryingOnEINTR("netlink receive") {
          mnl_socket_recvfrom(socket, buffer, Self.receiveBufferSize)
        }
      } catch {
        // No answer (timeout) or a lost one (ENOBUFS): what is unanswered failed with it;
        // answers that come later are discarded before the next request.
        for index in results.indices where results[index] == -1 { results[index] = error.errno }
        return results
      }
      var remaining = Int32(received)
      var message = buffer.assumingMemoryBound(to: nlmsghdr.self)
      while mnl_nlmsg_ok(message, remaining) {
        let index = Int(message.pointee.nlmsg_seq &- first)
        if message.pointee.nlmsg_type == UInt16(NLMSG_ERROR), index >= 0, index < count,
          results[index] == -1
        {
          let payload = mnl_nlmsg_get_payload(message)!.assumingMemoryBound(to: nlmsgerr.self)
          results[index] = -payload.pointee.error
          acknowledged += 1
        }
        message = mnl_nlmsg_next(message, &remaining)
      }
    }
    return results
  }
}
