#if canImport(Glibc)
  import Glibc
#endif

/// tun → udp bookkeeping beside the TUN buffers: the run of packets being grouped into one
/// send, and for TSO/USO super-packets the memory their split needs. Forwarder thread only.
final class TunToUDPBuffers {
  /// Where split headers of one buffer's super-packet go: one per segment.
  static let splitAreaSize = SuperPacket.maxSegments * SuperPacket.maxHeaderLength
  /// iovecs gathering one buffer's split: a header and a payload per segment.
  static let splitVectorCount = 2 * SuperPacket.maxSegments
  /// Sends one super-packet may take (≤ 64 segments each; see `Forwarder.segmentsPerSend`).
  static let chunksPerSplit = 2
  /// With the WireGuard step: room for one super-packet's segments sealed one after another,
  /// each with its 16-byte header, up to 15 bytes of padding and its tag (the payloads, plus
  /// per segment its headers and 47 bytes).
  static let sealAreaSize = 65536 + SuperPacket.maxSegments * (SuperPacket.maxHeaderLength + 48)

  let runs: SegmentRuns
  /// Where the run being built goes.
  var runDestination = sockaddr_in6()
  /// With TSO/USO: per TUN buffer, the split's headers (the payloads stay in the buffer) and
  /// the iovecs gathering them; nil when neither was on at start.
  let splitAreas: UnsafeMutableRawPointer?
  let splitVectors: UnsafeMutablePointer<iovec>?
  /// With the WireGuard step and TSO/USO: per TUN buffer, where its super-packet's segments
  /// are sealed (`sealAreaSize` each); nil otherwise.
  let sealAreas: UnsafeMutableRawPointer?
  /// Per TUN buffer: sends of its split still in flight.
  let pendingSends: UnsafeMutablePointer<Int32>
  /// Per split slot: the segments of its chunk (for counting).
  let chunkSegments: UnsafeMutablePointer<Int32>
  private let tunCount: Int

  init(tunBufferCount tunCount: Int, splitting: Bool, sealing: Bool = false) {
    self.tunCount = tunCount
    sealAreas =
      splitting && sealing
      ? .allocate(byteCount: tunCount * Self.sealAreaSize, alignment: 64) : nil
    runs = SegmentRuns(capacity: tunCount)
    splitAreas =
      splitting ? .allocate(byteCount: tunCount * Self.splitAreaSize, alignment: 64) : nil
    splitVectors = splitting ? .allocate(capacity: tunCount * Self.splitVectorCount) : nil
    pendingSends = .allocate(capacity: tunCount)
    pendingSends.initialize(repeating: 0, count: tunCount)
    chunkSegments = .allocate(capacity: Self.chunksPerSplit * tunCount)
    chunkSegments.initialize(repeating: 0, count: Self.chunksPerSplit * tunCount)
  }

  deinit {
    splitAreas?.deallocate()
    splitVectors?.deallocate()
    sealAreas?.deallocate()
    pendingSends.deallocate()
    chunkSegments.deallocate()
  }

  /// Send headers the loop needs: one per TUN buffer (a buffer heads at most one run in
  /// flight), plus with splitting one per chunk of each buffer's split.
  static func sendHeaders(tunBufferCount: Int, splitting: Bool) -> Int {
    splitting ? (1 + chunksPerSplit) * tunBufferCount : tunBufferCount
  }

  /// The send-header slot of chunk `chunk` of buffer `id`'s split: after the run headers.
  @inline(__always)
  func splitSlot(buffer id: Int, chunk: Int) -> Int {
    tunCount &+ Self.chunksPerSplit &* id &+ chunk
  }

  /// The buffer and chunk index of a split slot.
  @inline(__always)
  func splitBuffer(ofSlot slot: Int) -> (id: Int, chunk: Int) {
    let index = slot &- tunCount
    return (index / Self.chunksPerSplit, index % Self.chunksPerSplit)
  }

  /// `chunkSegments` is indexed by slot minus the run headers.
  @inline(__always)
  func chunkIndex(ofSlot slot: Int) -> Int { slot &- tunCount }
}
