#if canImport(Glibc)
  import Glibc
#endif

/// The TUN writes being prepared for one received buffer (a UDP GRO train): where its iovecs
/// and virtio header slots are, how many are used, and the super-packet being coalesced.
/// Lives on the forwarder thread's stack for the duration of one completion.
struct TrainWrites {
  /// This buffer's `UDPToTunBuffers.vectorsPerBuffer` iovecs.
  let vectors: UnsafeMutablePointer<iovec>
  /// This buffer's `UDPToTunBuffers.writesPerBuffer` virtio header slots.
  let headerSlots: UnsafeMutableRawPointer
  /// iovecs used so far.
  var used = 0
  /// Writes posted so far (each completes once; the buffer is recycled after the last).
  var writes: Int32 = 0
  /// First iovec (the header slot) of the super-packet being built.
  var first = 0
  /// The super-packet being built is in one of them (at most one has a head: starting
  /// one always finishes the other first).
  var tcp = TCPCoalescer()
  var udp = UDPCoalescer()

  init(vectors: UnsafeMutablePointer<iovec>, headerSlots: UnsafeMutableRawPointer) {
    self.vectors = vectors
    self.headerSlots = headerSlots
  }

  /// A super-packet is being built.
  var building: Bool { tcp.head != nil || udp.head != nil }

  /// Appends the candidate to the super-packet being built when it continues it.
  @inline(__always)
  mutating func append(_ packet: UnsafeRawPointer, _ candidate: MergeCandidate) -> Bool {
    switch candidate {
    case .tcp(let segment): tcp.append(packet, segment)
    case .udp(let segment): udp.append(packet, segment)
    }
  }

  /// Starts a super-packet with the candidate (none may be being built).
  @inline(__always)
  mutating func start(_ packet: UnsafeMutableRawPointer, _ candidate: MergeCandidate) {
    switch candidate {
    case .tcp(let segment): tcp.start(packet, segment)
    case .udp(let segment): udp.start(packet, segment)
    }
  }

  /// Ends the super-packet being built (see the coalescers' `finish`): its segments (0 when
  /// none was being built) and whether it is UDP.
  @inline(__always)
  mutating func finish(virtioHeader: UnsafeMutableRawPointer) -> (segments: Int, udp: Bool) {
    if udp.head != nil { return (udp.finish(virtioHeader: virtioHeader), true) }
    return (tcp.finish(virtioHeader: virtioHeader), false)
  }
}

/// A received packet that may join a super-packet, and what its coalescer learned about it.
enum MergeCandidate {
  case tcp(TCPCoalescer.Segment)
  case udp(UDPCoalescer.Segment)

  /// The packet as a candidate: TCP always, UDP only with `udp` (the kernel accepted USO);
  /// nil when it is written as it is.
  @inline(__always)
  init?(_ packet: UnsafeRawPointer, length: Int, udp: Bool) {
    guard length >= 20 else { return nil }
    // The protocol: IPv4's byte 9, IPv6's next header (byte 6; ≥ 40 bytes checked below).
    let protocolOffset =
      packet.load(as: UInt8.self) >> 4 == 6
      ? IPv6Packet.nextHeaderOffset : IPv4Packet.protocolOffset
    switch packet.load(fromByteOffset: protocolOffset, as: UInt8.self) {
    case IPv4Packet.protocolTCP:
      guard let segment = TCPCoalescer.segment(packet, length: length) else { return nil }
      self = .tcp(segment)
    case IPv4Packet.protocolUDP where udp:
      guard let segment = UDPCoalescer.segment(packet, length: length) else { return nil }
      self = .udp(segment)
    default:
      return nil
    }
  }

  /// IP plus L4 header: the bytes of the packet that a continuation does not add.
  @inline(__always)
  var headerLength: Int {
    switch self {
    case .tcp(let segment): segment.headerLength
    case .udp(let segment): segment.headerLength
    }
  }
}
