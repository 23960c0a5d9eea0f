import CLibURing

#if canImport(Glibc)
  import Glibc
#endif

/// tun → udp for TSO/USO super-packets: split (pure code in SuperPacket: the headers go to the
/// buffer's split area, the payloads stay in the buffer and are gathered by iovecs), then one
/// SENDMSG with UDP_SEGMENT per ≤ 64 segments. The datagrams on the
/// wire are the packets the kernel would have sent without the offload.
extension Forwarder {
  /// Segments per GSO send: the kernel's UDP_MAX_SEGMENTS before 2024. With the 65507-byte
  /// limit, a 64 KiB super-packet of ≤ 128 segments always fits the two sends (header slots)
  /// each buffer has: segments < 1024 bytes go 64 at a time, larger ones ≤ 65507 bytes.
  static let segmentsPerSend = 64

  @inline(__always)
  func superPacketRead(
    _ id: Int, _ virtio: VirtioNetHeader, _ packet: UnsafeMutableRawPointer, _ length: Int,
    _ destination: sockaddr_in, _ ring: Ring, _ buffers: LoopBuffers
  ) {
    bank.add(.tunSuperPackets)
    guard offloadState.splitsSuperPackets, let areas = buffers.splitAreas,
      let allVectors = buffers.splitVectors
    else {
      // Offloads went off at run time; this one was already queued. TCP resends it.
      bank.add(.dropOffload)
      buffers.tun.recycle(id)
      return
    }
    let area = areas + id &* LoopBuffers.splitAreaSize
    let vectors = allVectors + id &* LoopBuffers.splitVectorCount
    let split = SuperPacket.split(
      virtio, packet: UnsafeRawPointer(packet), length: length, into: area,
      capacity: LoopBuffers.splitAreaSize, gather: vectors)
    guard case .success(let segments) = split else {
      bank.add(.dropOffload)
      buffers.tun.recycle(id)
      return
    }
    if let decision = offloadState.superPacketTooLong(segmentLength: segments.segmentLength) {
      // The kernel refused GSO sends of packets this long (path MTU below the TUN MTU):
      // let it segment to the TUN MTU and fragment as the plain path does.
      offloadsTurnedOff(decision, after: .splitSend, errno: EMSGSIZE)
      bank.add(.dropOffload)
      buffers.tun.recycle(id)
      return
    }
    bank.add(.tunSplitPackets, UInt64(segments.count))
    // Packets read before this one go first.
    sendRun(ring, buffers)
    let tunCount = configuration.tunBufferCount
    let perSend = max(
      1, min(Self.segmentsPerSend, SegmentRuns.maxPayload / segments.segmentLength))
    var chunk = 0
    var sent = 0
    while sent < segments.count {
      // ≤ 64 segments and ≤ 65507 bytes (one UDP payload) per send: 44 at MTU 1472.
      let count = min(perSend, segments.count &- sent)
      let slot = tunCount &+ 2 &* id &+ chunk
      guard chunk < 2, let sqe = sqe(ring) else {
        bank.add(.dropSendError, UInt64(segments.count &- sent))
        break
      }
      let header = buffers.headers.prepareSplitSend(
        slot: slot, vectors: vectors + 2 &* sent, vectorCount: 2 &* count, segments: count,
        segmentSize: segments.segmentLength, to: destination)
      io_uring_prep_sendmsg(sqe, sendFD, header, 0)
      finish(sqe, .splitSend, slot)
      bank.add(.udpSends)
      buffers.chunkSegments[slot &- tunCount] = Int32(truncatingIfNeeded: count)
      buffers.pendingSends[id] &+= 1
      sent &+= count
      chunk &+= 1
    }
    if buffers.pendingSends[id] == 0 { buffers.tun.recycle(id) }
  }

  /// A chunk of a split super-packet was sent. A refused one is lost (TCP resends it), and
  /// `OffloadState` may turn offloads off.
  @inline(__always)
  func splitSendCompleted(_ slot: Int, _ result: Int32, _ buffers: LoopBuffers) {
    let tunCount = configuration.tunBufferCount
    let id = (slot &- tunCount) >> 1
    let segments = UInt64(buffers.chunkSegments[slot &- tunCount])
    if result >= 0 {
      bank.add(.udpPacketsSent, segments)
      bank.add(.udpBytesSent, UInt64(result))
    } else {
      bank.add(.dropSendError, segments)
      offloadFailed(.splitSend, errno: -result)
    }
    buffers.pendingSends[id] &-= 1
    if buffers.pendingSends[id] == 0 { buffers.tun.recycle(id) }
  }
}
