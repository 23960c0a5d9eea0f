import CLibURing
import CSystemShims

#if canImport(Glibc)
  import Glibc
#endif

/// The msghdr memory the kernel reads, allocated once: one SENDMSG header (with room for a run
/// of `SegmentRuns.maxSegments` iovecs, a UDP_SEGMENT control message and the destination) per
/// TUN buffer id — a buffer heads at most one send in flight, so its id picks the header —
/// and the template of the multishot RECVMSG (asks for the sender's name and room for a
/// UDP_GRO control message; the payload goes to provided buffers). Destinations have room for
/// a `sockaddr_in6`; `msg_namelen` is the socket family's, set once here, so that a send to an
/// IPv4 peer costs what it did with `sockaddr_in` slots.
final class MessageHeaders {
  let count: Int
  let sends: UnsafeMutablePointer<msghdr>
  let vectors: UnsafeMutablePointer<iovec>
  let destinations: UnsafeMutablePointer<sockaddr_in6>
  /// Per header: one cmsg of level SOL_UDP, type UDP_SEGMENT, a UInt16 segment size.
  let controls: UnsafeMutableRawPointer
  static let controlStride = Int(FLANNEL_CMSG_SPACE_U16)
  let receive: UnsafeMutablePointer<msghdr>
  /// Where the multishot RECVMSG puts name, control data and payload in each buffer.
  let receiveLayout: ReceiveLayout

  /// `nameLength`: the size of the socket family's address (`sockaddr_in` on the IPv4
  /// underlay, `sockaddr_in6` on the IPv6 one).
  init(count: Int, nameLength: Int = MemoryLayout<sockaddr_in>.size) {
    receiveLayout = ReceiveLayout(ipv6: nameLength > MemoryLayout<sockaddr_in>.size)
    self.count = count
    sends = .allocate(capacity: count)
    let perSend = SegmentRuns.maxSegments
    vectors = .allocate(capacity: count * perSend)
    vectors.initialize(repeating: iovec(iov_base: nil, iov_len: 0), count: count * perSend)
    destinations = .allocate(capacity: count)
    controls = .allocate(byteCount: count * Self.controlStride, alignment: 8)
    controls.initializeMemory(as: UInt8.self, repeating: 0, count: count * Self.controlStride)
    for id in 0..<count {
      destinations[id] = sockaddr_in6()
      var header = msghdr()
      header.msg_name = UnsafeMutableRawPointer(destinations + id)
      header.msg_namelen = socklen_t(nameLength)
      header.msg_iov = vectors + id * perSend
      header.msg_iovlen = 1
      sends[id] = header
      let control = (controls + id * Self.controlStride).assumingMemoryBound(to: cmsghdr.self)
      control.pointee.cmsg_len = Int(FLANNEL_CMSG_LEN_U16)
      control.pointee.cmsg_level = Int32(FLANNEL_SOL_UDP)
      control.pointee.cmsg_type = Int32(FLANNEL_UDP_SEGMENT)
    }
    receive = .allocate(capacity: 1)
    var template = msghdr()
    // The family's name area (`ReceiveLayout`): the kernel says in each buffer how much of it
    // the sender's address took.
    template.msg_namelen = socklen_t(receiveLayout.nameSize)
    // Room for the UDP_GRO segment size (an int) in every received buffer.
    template.msg_controllen = ReceivedDatagram.controlSize
    receive.initialize(to: template)
  }

  deinit {
    sends.deallocate()
    vectors.deallocate()
    destinations.deallocate()
    controls.deallocate()
    receive.deallocate()
  }

  /// Points send header `head` at the run `head → runs.next → …` of `count` packets in `buffers`,
  /// to `destination`; with more than one packet, the kernel cuts the payload into
  /// `segmentSize`-byte datagrams (UDP GSO).
  @inline(__always)
  func prepareSend(
    head: Int, count: Int, segmentSize: Int, runs: SegmentRuns, buffers: PacketBuffers,
    packetOffset: Int = 0, to destination: sockaddr_in6
  ) -> UnsafeMutablePointer<msghdr> {
    // A copy, not a pointer into the route snapshot: the control plane may retire the
    // snapshot before the kernel reads the SQE.
    destinations[head] = destination
    let vector = vectors + head &* SegmentRuns.maxSegments
    var id = head
    for i in 0..<count {
      vector[i].iov_base = buffers.buffer(id) + packetOffset
      vector[i].iov_len = Int(runs.lengths[id])
      id = Int(runs.next[id])
    }
    return finishSend(slot: head, vectors: count, segments: count, segmentSize: segmentSize)
  }

  /// Points send header `slot` at split packets gathered by `vectorCount` iovecs (header,
  /// payload, header, …) kept by the caller until the send completes, to `destination`;
  /// `segments` packets of `segmentSize` bytes (the last may be shorter) go as one UDP GSO send.
  @inline(__always)
  func prepareSplitSend(
    slot: Int, vectors gathered: UnsafeMutablePointer<iovec>, vectorCount: Int, segments: Int,
    segmentSize: Int, to destination: sockaddr_in6
  ) -> UnsafeMutablePointer<msghdr> {
    destinations[slot] = destination
    sends[slot].msg_iov = gathered
    return finishSend(
      slot: slot, vectors: vectorCount, segments: segments, segmentSize: segmentSize)
  }

  @inline(__always)
  private func finishSend(slot head: Int, vectors: Int, segments count: Int, segmentSize: Int)
    -> UnsafeMutablePointer<msghdr>
  {
    let header = sends + head
    header.pointee.msg_iovlen = vectors
    if count > 1 {
      let control = controls + head &* Self.controlStride
      control.storeBytes(
        of: UInt16(truncatingIfNeeded: segmentSize), toByteOffset: Int(FLANNEL_CMSG_DATA_OFFSET),
        as: UInt16.self)
      header.pointee.msg_control = control
      header.pointee.msg_controllen = Int(FLANNEL_CMSG_SPACE_U16)
    } else {
      header.pointee.msg_control = nil
      header.pointee.msg_controllen = 0
    }
    return header
  }
}

/// Where a multishot RECVMSG buffer holds what: `io_uring_recvmsg_out` (namelen, controllen,
/// payloadlen, flags: four UInt32), the name area, the control area (room for one UDP_GRO
/// cmsg), then the payload. The name area is the socket family's: a `sockaddr_in` on the IPv4
/// underlay (16 bytes: the layout it always had), a `sockaddr_in6` rounded up to 8 bytes (32)
/// on the IPv6 one, so that the payload stays 8-byte aligned. Fixed per socket.
struct ReceiveLayout: Equatable {
  let nameSize: Int
  let controlOffset: Int
  let payloadOffset: Int

  init(ipv6: Bool) {
    nameSize = ipv6 ? (MemoryLayout<sockaddr_in6>.size + 7) & ~7 : MemoryLayout<sockaddr_in>.size
    controlOffset = ReceivedDatagram.headerSize + nameSize
    payloadOffset = controlOffset + ReceivedDatagram.controlSize
  }

  static let ipv4 = ReceiveLayout(ipv6: false)
  static let ipv6 = ReceiveLayout(ipv6: true)
}

/// Reading a multishot RECVMSG buffer (`ReceiveLayout`).
enum ReceivedDatagram {
  static let headerSize = MemoryLayout<io_uring_recvmsg_out>.size
  static let controlSize = Int(FLANNEL_CMSG_SPACE_INT)

  @inline(__always)
  static func header(_ buffer: UnsafeRawPointer) -> io_uring_recvmsg_out {
    buffer.load(as: io_uring_recvmsg_out.self)
  }

  @inline(__always)
  static func nameLength(_ buffer: UnsafeRawPointer) -> Int {
    Int(header(buffer).namelen)
  }

  /// The datagram's real length (MSG_TRUNC asked), even when longer than the buffer. With
  /// UDP GRO, the length of the whole train of equal-size datagrams.
  @inline(__always)
  static func payloadLength(_ buffer: UnsafeRawPointer) -> Int {
    Int(header(buffer).payloadlen)
  }

  @inline(__always)
  static func flags(_ buffer: UnsafeRawPointer) -> Int32 {
    Int32(bitPattern: header(buffer).flags)
  }

  /// An IPv4 sender's address and port, host byte order; nil when the name is no whole
  /// `sockaddr_in` (the kernel's namelen) of family AF_INET.
  @inline(__always)
  static func source(_ buffer: UnsafeRawPointer) -> (address: UInt32, port: UInt16)? {
    let name = buffer.loadUnaligned(fromByteOffset: headerSize, as: sockaddr_in.self)
    guard nameLength(buffer) >= MemoryLayout<sockaddr_in>.size,
      name.sin_family == sa_family_t(AF_INET)
    else { return nil }
    return (UInt32(bigEndian: name.sin_addr.s_addr), UInt16(bigEndian: name.sin_port))
  }

  /// An IPv6 sender's address (two halves) and port, host byte order; nil when the name is no
  /// whole `sockaddr_in6` of family AF_INET6.
  @inline(__always)
  static func source6(_ buffer: UnsafeRawPointer) -> (high: UInt64, low: UInt64, port: UInt16)? {
    guard nameLength(buffer) >= MemoryLayout<sockaddr_in6>.size,
      nameLength(buffer) <= ReceiveLayout.ipv6.nameSize
    else { return nil }
    let name = buffer.loadUnaligned(fromByteOffset: headerSize, as: sockaddr_in6.self)
    guard name.sin6_family == sa_family_t(AF_INET6) else { return nil }
    return socketAddress6Parts(name)
  }

  /// The size of each datagram of a GRO train (the UDP_GRO cmsg at `controlOffset`, the
  /// socket's `ReceiveLayout`), or nil for a single one.
  @inline(__always)
  static func segmentSize(_ buffer: UnsafeRawPointer, controlOffset: Int) -> Int? {
    guard Int(header(buffer).controllen) >= Int(FLANNEL_CMSG_DATA_OFFSET) + 4 else { return nil }
    let control = buffer + controlOffset
    guard
      control.load(fromByteOffset: Int(FLANNEL_CMSG_LEVEL_OFFSET), as: Int32.self)
        == Int32(FLANNEL_SOL_UDP),
      control.load(fromByteOffset: Int(FLANNEL_CMSG_TYPE_OFFSET), as: Int32.self)
        == Int32(FLANNEL_UDP_GRO)
    else { return nil }
    let size = Int(control.load(fromByteOffset: Int(FLANNEL_CMSG_DATA_OFFSET), as: Int32.self))
    return size > 0 ? size : nil
  }
}
