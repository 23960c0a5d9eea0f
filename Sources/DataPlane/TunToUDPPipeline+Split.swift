#if canImport(Glibc)
  import Glibc
#endif

/// tun → udp for TSO/USO super-packets: split (pure code in SuperPacket: the headers go to the
/// buffer's split area, the payloads stay in the buffer and are gathered by iovecs), then one
/// SENDMSG with UDP_SEGMENT per ≤ 64 segments. The datagrams on the wire are the packets the
/// kernel would have sent without the offload.
extension TunToUDPPipeline {
  /// Segments per GSO send: the kernel's UDP_MAX_SEGMENTS before 2024. With the 65507-byte
  /// limit, a 64 KiB super-packet of ≤ 128 segments always fits the two sends (header slots)
  /// each buffer has: segments < 1024 bytes go 64 at a time, larger ones ≤ 65507 bytes.
  static let segmentsPerSend = 64

  @inline(__always)
  func superPacketRead(
    _ id: Int, _ virtio: VirtioNetHeader, _ packet: UnsafeMutableRawPointer, _ length: Int,
    _ destination: sockaddr_in6, routeIndex: Int
  ) {
    bank.add(.tunSuperPackets)
    if let tunnel {
      return sealedSuperPacketRead(id, virtio, packet, length, destination, tunnel, routeIndex)
    }
    // Offloads went off at run time and this one was already queued: TCP resends it.
    guard offloads.state.splitsSuperPackets, let areas = state.splitAreas,
      let allVectors = state.splitVectors
    else { return drop(id, .dropOffload) }
    let vectors = allVectors + id &* TunToUDPBuffers.splitVectorCount
    let split = SuperPacket.split(
      virtio, packet: UnsafeRawPointer(packet), length: length,
      into: areas + id &* TunToUDPBuffers.splitAreaSize,
      capacity: TunToUDPBuffers.splitAreaSize, gather: vectors)
    guard case .success(let segments) = split else { return drop(id, .dropOffload) }
    if let decision = offloads.state.superPacketTooLong(segmentLength: segments.segmentLength) {
      // The kernel refused GSO sends of packets this long (path MTU below the TUN MTU):
      // let it segment to the TUN MTU and fragment as the plain path does.
      intents.append(.offloadsOff(decision, after: .splitSend, errno: EMSGSIZE))
      return drop(id, .dropOffload)
    }
    bank.add(.tunSplitPackets, UInt64(segments.count))
    flush()  // packets read before this one go first
    sendChunks(
      id, count: segments.count, segmentSize: segments.segmentLength, vectors: vectors,
      vectorsPerSegment: 2, destination)
    if state.pendingSends[id] == 0 { intents.append(.recycleTun(id)) }
  }

  /// With the WireGuard step: the segments are cut and sealed into the buffer's seal area,
  /// one transport message after another at a fixed stride (all but the last of equal
  /// length), and sent as one UDP GSO send per ≤ 64 messages — a message per segment on the
  /// wire, as the protocol requires.
  /// No session yet: the super-packet is staged whole (its buffer held), sealed when the
  /// session comes (`TunnelCodec.releasing`: then never staged again).
  @inline(__always)
  func sealedSuperPacketRead(
    _ id: Int, _ virtio: VirtioNetHeader, _ packet: UnsafeMutableRawPointer, _ length: Int,
    _ destination: sockaddr_in6, _ tunnel: TunnelCodec, _ routeIndex: Int
  ) {
    guard offloads.state.splitsSuperPackets, let areas = state.sealAreas,
      let allVectors = state.splitVectors
    else { return drop(id, .dropOffload) }
    let area = areas + id &* TunToUDPBuffers.sealAreaSize
    let sealed = tunnel.sealSegments(
      virtio, packet: UnsafeRawPointer(packet), length: length, into: area,
      capacity: TunToUDPBuffers.sealAreaSize, routeIndex: routeIndex)
    guard sealed.count > 0 else {
      if sealed.count == TunnelCodec.mustStage {
        if !tunnel.releasing { return stage(id, length: length, routeIndex, tunnel) }
        bank.add(.tunnelStagedDropped)
      }
      intents.append(.recycleTun(id))  // dropped and counted by the tunnel
      return
    }
    if tunnel.releasing { bank.add(.tunnelStagedSent) }
    if let decision = offloads.state.superPacketTooLong(segmentLength: sealed.stride) {
      // As for plain segments: GSO sends of datagrams this long were refused.
      intents.append(.offloadsOff(decision, after: .splitSend, errno: EMSGSIZE))
      return drop(id, .dropOffload)
    }
    bank.add(.tunSplitPackets, UInt64(sealed.count))
    flush()  // packets read before this one go first
    // One iovec per message: the chunks are runs of them.
    let vectors = allVectors + id &* TunToUDPBuffers.splitVectorCount
    for i in 0..<sealed.count {
      let start = i &* sealed.stride
      vectors[i] = iovec(iov_base: area + start, iov_len: min(sealed.stride, sealed.bytes &- start))
    }
    sendChunks(
      id, count: sealed.count, segmentSize: sealed.stride, vectors: vectors, vectorsPerSegment: 1,
      destination)
    if state.pendingSends[id] == 0 { intents.append(.recycleTun(id)) }
  }

  /// One UDP GSO send per ≤ 64 segments and ≤ 65507 bytes (one UDP payload): 44 at MTU 1472.
  /// Segment i is gathered by `vectorsPerSegment` iovecs from `vectors + i × that`.
  @inline(__always)
  private func sendChunks(
    _ id: Int, count total: Int, segmentSize: Int, vectors: UnsafeMutablePointer<iovec>,
    vectorsPerSegment: Int, _ destination: sockaddr_in6
  ) {
    let perSend = max(1, min(Self.segmentsPerSend, SegmentRuns.maxPayload / segmentSize))
    var chunk = 0
    var sent = 0
    while sent < total {
      guard chunk < TunToUDPBuffers.chunksPerSplit else {
        bank.add(.dropSendError, UInt64(total &- sent))
        break
      }
      let count = min(perSend, total &- sent)
      let slot = state.splitSlot(buffer: id, chunk: chunk)
      let header = headers.prepareSplitSend(
        slot: slot, vectors: vectors + vectorsPerSegment &* sent,
        vectorCount: vectorsPerSegment &* count, segments: count, segmentSize: segmentSize,
        to: destination)
      intents.append(.send(header, .splitSend, id: slot))
      state.chunkSegments[state.chunkIndex(ofSlot: slot)] = Int32(truncatingIfNeeded: count)
      state.pendingSends[id] &+= 1
      sent &+= count
      chunk &+= 1
    }
  }

  /// A chunk of a split super-packet was sent (or, `submitted` false, never left: no SQE). A
  /// refused one is lost (TCP resends it), and `OffloadState` may turn offloads off.
  @inline(__always)
  func splitSendCompleted(_ slot: Int, _ result: Int32, submitted: Bool = true) {
    let id = state.splitBuffer(ofSlot: slot).id
    let segments = UInt64(state.chunkSegments[state.chunkIndex(ofSlot: slot)])
    if result >= 0 {
      bank.add(.udpPacketsSent, segments)
      bank.add(.udpBytesSent, UInt64(result))
    } else {
      bank.add(.dropSendError, segments)
      if submitted { _ = offloads.failed(.splitSend, errno: -result, intents) }
    }
    state.pendingSends[id] &-= 1
    if state.pendingSends[id] == 0 { intents.append(.recycleTun(id)) }
  }
}
