#if canImport(Glibc)
  import Glibc
#endif

/// The msghdr memory the kernel reads, allocated once: one SENDMSG header (with its iovec and
/// destination) per TUN buffer id — a buffer has at most one send in flight, so its id picks
/// the header — and the template of the multishot RECVMSG (asks for a sockaddr_in name and no
/// control data; the payload goes to provided buffers).
final class MessageHeaders {
  let count: Int
  let sends: UnsafeMutablePointer<msghdr>
  let vectors: UnsafeMutablePointer<iovec>
  let destinations: UnsafeMutablePointer<sockaddr_in>
  let receive: UnsafeMutablePointer<msghdr>
  /// 8-byte target of the eventfd READ used to stop the loop.
  let wakeBuffer: UnsafeMutablePointer<UInt64>

  init(count: Int) {
    self.count = count
    sends = .allocate(capacity: count)
    vectors = .allocate(capacity: count)
    destinations = .allocate(capacity: count)
    for id in 0..<count {
      destinations[id] = sockaddr_in()
      vectors[id] = iovec(iov_base: nil, iov_len: 0)
      var header = msghdr()
      header.msg_name = UnsafeMutableRawPointer(destinations + id)
      header.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
      header.msg_iov = vectors + id
      header.msg_iovlen = 1
      sends[id] = header
    }
    receive = .allocate(capacity: 1)
    var template = msghdr()
    template.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
    receive.initialize(to: template)
    wakeBuffer = .allocate(capacity: 1)
    wakeBuffer.initialize(to: 0)
  }

  deinit {
    sends.deallocate()
    vectors.deallocate()
    destinations.deallocate()
    receive.deallocate()
    wakeBuffer.deallocate()
  }

  /// Points send header `id` at `length` bytes from `packet`, to `destination`.
  @inline(__always)
  func prepareSend(
    _ id: Int, packet: UnsafeMutableRawPointer, length: Int,
    to destination: UnsafePointer<sockaddr_in>
  ) -> UnsafeMutablePointer<msghdr> {
    // A copy, not a pointer into the route snapshot: the control plane may retire the
    // snapshot before the kernel reads the SQE.
    destinations[id] = destination.pointee
    vectors[id].iov_base = packet
    vectors[id].iov_len = length
    return sends + id
  }
}

/// The layout of a multishot RECVMSG buffer: `io_uring_recvmsg_out` (namelen, controllen,
/// payloadlen, flags: four UInt32), the name, then the payload (no control data requested).
enum ReceivedDatagram {
  static let headerSize = 16
  static let nameSize = MemoryLayout<sockaddr_in>.size
  static let payloadOffset = headerSize + nameSize

  @inline(__always)
  static func nameLength(_ buffer: UnsafeRawPointer) -> Int {
    Int(buffer.load(as: UInt32.self))
  }

  /// The datagram's real length (MSG_TRUNC asked), even when longer than the buffer.
  @inline(__always)
  static func payloadLength(_ buffer: UnsafeRawPointer) -> Int {
    Int(buffer.load(fromByteOffset: 8, as: UInt32.self))
  }

  @inline(__always)
  static func flags(_ buffer: UnsafeRawPointer) -> Int32 {
    Int32(bitPattern: buffer.load(fromByteOffset: 12, as: UInt32.self))
  }

  /// Sender address and port, host byte order.
  @inline(__always)
  static func source(_ buffer: UnsafeRawPointer) -> (address: UInt32, port: UInt16) {
    let name = buffer + headerSize
    let port = name.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
    let address = name.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    return (UInt32(bigEndian: address), UInt16(bigEndian: port))
  }
}
