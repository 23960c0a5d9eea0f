/// Receive-side GRO for the TUN: merges consecutive TCP segments of one flow (as a UDP GRO
/// train delivers them, back to back in one buffer) into one super-packet that is written
/// into the TUN with a virtio header {NEEDS_CSUM, TCPV4, gso_size}. The kernel then moves one
/// packet through its stack instead of dozens and re-segments it only where it must.
///
/// The merge is the exact inverse of `SuperPacket.split`: merging packets and splitting the
/// result gives back the same bytes. That holds because only segments the split could have
/// produced are merged (perf-notes §1.4, Linux's tcp_gro_receive): plain IPv4 (no options,
/// no fragment) or IPv6 without extension headers (then {TCPV6}; no IP ID), flags exactly
/// ACK or ACK|PSH, a payload, valid IPv4 header and TCP checksums
/// (a packet the receiving kernel would drop is left for it to drop), IP ID and sequence
/// each following the previous, every other header byte equal, PSH only on the last, and
/// segments no longer than the first (a shorter one ends the super-packet).
///
/// Pure code on raw memory, no allocation; the payloads stay where they are (the forwarder
/// gathers them with an iovec per packet), only the first packet's header is rewritten.
public struct TCPCoalescer {
  /// What `segment(_:length:)` learned about a mergeable packet.
  public struct Segment: Equatable, Sendable {
    /// IP header (IPv4 20, IPv6 40) plus TCP header with options.
    public var headerLength: Int
    public var payloadLength: Int
    public var sequence: UInt32
    /// IPv4's ID (IPv6: 0, and it does not step).
    public var identification: UInt16
    public var push: Bool
    /// 20 (IPv4) or 40 (IPv6).
    public var ipHeaderLength = 20
  }

  /// Most segments in one super-packet (UDP_GRO_CNT_MAX; a GRO train holds no more).
  public static let maxSegments = 64
  /// An IPv4 packet's total length is 16 bits.
  public static let maxLength = 65535

  static let flagACK: UInt8 = 0x10
  static let flagPSH: UInt8 = 0x08

  /// The first packet of the super-packet being built (nil: none).
  public private(set) var head: UnsafeMutableRawPointer?
  public private(set) var count = 0
  private var headerLength = 0
  private var segmentSize = 0
  private var payloadBytes = 0
  private var nextSequence: UInt32 = 0
  private var nextIdentification: UInt16 = 0
  /// 1 for IPv4 (the ID steps by one per segment), 0 for IPv6 (no ID).
  private var identificationStep: UInt16 = 1
  private var ipHeaderLength = 20
  private var push = false
  /// A shorter segment or one with PSH was appended: nothing may follow.
  private var closed = false

  public init() {}

  /// The packet as a merge candidate, or nil when it must be written as it is. Checks the
  /// IPv4 and TCP headers and both checksums (one pass over the packet).
  @inline(__always)
  public static func segment(_ packet: UnsafeRawPointer, length: Int) -> Segment? {
    if length >= 60 && packet.load(as: UInt8.self) >> 4 == 6 {
      return segmentIPv6(packet, length: length)
    }
    guard length >= 40, packet.load(as: UInt8.self) == 0x45,
      packet.load(fromByteOffset: IPv4Packet.protocolOffset, as: UInt8.self)
        == IPv4Packet.protocolTCP,
      packet.loadBigEndian16(at: 6) & 0x3fff == 0,
      Int(packet.loadBigEndian16(at: 2)) == length,
      // finish() recomputes the head's header checksum: a corrupt header must not come out
      // repaired (Linux's inet_gro_receive flushes on a bad one too).
      IPv4Packet.headerChecksumIsValid(packet)
    else { return nil }
    let flags = packet.load(fromByteOffset: 33, as: UInt8.self)
    guard flags & ~flagPSH == flagACK else { return nil }
    let headerLength = 20 &+ Int(packet.load(fromByteOffset: 32, as: UInt8.self) >> 4) &* 4
    guard headerLength >= 40, headerLength < length else { return nil }
    let l4Length = length &- 20
    let pseudo = IPv4Packet.pseudoHeaderSum(packet, l4Length: l4Length)
    guard Checksum.sum(packet + 20, length: l4Length, initial: pseudo) == 0xffff else {
      return nil
    }
    return Segment(
      headerLength: headerLength, payloadLength: length &- headerLength,
      sequence: packet.loadBigEndian32(at: 24), identification: packet.loadBigEndian16(at: 4),
      push: flags & flagPSH != 0)
  }

  /// The same for an IPv6 packet: no extension headers, payload length right, TCP as above
  /// with the IPv6 pseudo-header.
  @inline(never)
  static func segmentIPv6(_ packet: UnsafeRawPointer, length: Int) -> Segment? {
    let ip = IPv6Packet.headerLength
    guard
      packet.load(fromByteOffset: IPv6Packet.nextHeaderOffset, as: UInt8.self)
        == IPv4Packet.protocolTCP,
      IPv6Packet.end(packet) == length
    else { return nil }
    let flags = packet.load(fromByteOffset: ip &+ 13, as: UInt8.self)
    guard flags & ~flagPSH == flagACK else { return nil }
    let headerLength = ip &+ Int(packet.load(fromByteOffset: ip &+ 12, as: UInt8.self) >> 4) &* 4
    guard headerLength >= ip &+ 20, headerLength < length else { return nil }
    let l4Length = length &- ip
    let pseudo = IPv6Packet.pseudoHeaderSum(
      packet, upperLayerLength: l4Length, protocolNumber: IPv4Packet.protocolTCP)
    guard Checksum.sum(packet + ip, length: l4Length, initial: pseudo) == 0xffff else {
      return nil
    }
    return Segment(
      headerLength: headerLength, payloadLength: length &- headerLength,
      sequence: packet.loadBigEndian32(at: ip &+ 4), identification: 0,
      push: flags & flagPSH != 0, ipHeaderLength: ip)
  }

  /// Starts a super-packet with `packet` (a candidate) as its first segment.
  @inline(__always)
  public mutating func start(_ packet: UnsafeMutableRawPointer, _ segment: Segment) {
    head = packet
    count = 1
    headerLength = segment.headerLength
    ipHeaderLength = segment.ipHeaderLength
    identificationStep = segment.ipHeaderLength == 20 ? 1 : 0
    segmentSize = segment.payloadLength
    payloadBytes = segment.payloadLength
    nextSequence = segment.sequence &+ UInt32(truncatingIfNeeded: segment.payloadLength)
    nextIdentification = segment.identification &+ identificationStep
    push = segment.push
    closed = segment.push
  }

  /// Appends `packet` (a candidate) when it continues the super-packet; false leaves both
  /// untouched (the caller finishes this one and may start another with the packet).
  @inline(__always)
  public mutating func append(_ packet: UnsafeRawPointer, _ segment: Segment) -> Bool {
    guard let head, !closed, count < Self.maxSegments,
      segment.headerLength == headerLength, segment.payloadLength <= segmentSize,
      segment.sequence == nextSequence, segment.identification == nextIdentification,
      segment.ipHeaderLength == ipHeaderLength,
      headerLength &+ payloadBytes &+ segment.payloadLength <= Self.maxLength,
      ipHeaderLength == 20
        ? Self.sameHeaders(UnsafeRawPointer(head), packet, headerLength: headerLength)
        : Self.sameHeadersIPv6(UnsafeRawPointer(head), packet, headerLength: headerLength)
    else { return false }
    count &+= 1
    payloadBytes &+= segment.payloadLength
    nextSequence &+= UInt32(truncatingIfNeeded: segment.payloadLength)
    nextIdentification &+= identificationStep
    push = segment.push
    closed = segment.push || segment.payloadLength < segmentSize
    return true
  }

  /// Ends the super-packet: with one segment, `virtioHeader` gets a plain header and the
  /// packet is left as it is; with more, the first packet's header becomes the super-packet's
  /// (total length, header checksum, PSH of the last, the pseudo-header sum in the TCP
  /// checksum field for the kernel to complete) and `virtioHeader` says how to segment it.
  /// Returns the number of segments (0 when nothing was started) and forgets them.
  @inline(__always)
  @discardableResult
  public mutating func finish(virtioHeader: UnsafeMutableRawPointer) -> Int {
    guard let head else { return 0 }
    let segments = count
    self.head = nil
    count = 0
    guard segments > 1 else {
      VirtioNetHeader.storePlain(virtioHeader)
      return segments
    }
    let ip = ipHeaderLength
    if push {
      let flags = head.load(fromByteOffset: ip &+ 13, as: UInt8.self)
      head.storeBytes(of: flags | Self.flagPSH, toByteOffset: ip &+ 13, as: UInt8.self)
    }
    let total = headerLength &+ payloadBytes
    if ip == 20 {
      IPv4Packet.rewriteAsSuperPacket(head, total: total, checksumField: 36)
    } else {
      IPv6Packet.rewriteAsSuperPacket(head, total: total, checksumField: ip &+ 16)
    }
    VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum,
      gsoType: ip == 20 ? VirtioNetHeader.gsoTCPv4 : VirtioNetHeader.gsoTCPv6,
      headerLength: UInt16(truncatingIfNeeded: headerLength),
      gsoSize: UInt16(truncatingIfNeeded: segmentSize), checksumStart: UInt16(ip),
      checksumOffset: 16
    ).store(virtioHeader)
    return segments
  }

  /// Every header byte equal except those that differ between the segments of one
  /// super-packet: IP total length, ID and checksum; TCP sequence, checksum and the PSH bit.
  @inline(__always)
  static func sameHeaders(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, headerLength: Int) -> Bool {
    // IPv4: version/IHL/ToS (0–1), flags/fragment/TTL/protocol (6–9), addresses (12–19).
    guard a.loadBigEndian16(at: 0) == b.loadBigEndian16(at: 0),
      a.loadBigEndian32(at: 6) == b.loadBigEndian32(at: 6),
      a.loadUnaligned(fromByteOffset: 12, as: UInt64.self)
        == b.loadUnaligned(fromByteOffset: 12, as: UInt64.self),
      // TCP: ports (20–23), acknowledgement (28–31), offset/flags/window (32–35) minus PSH,
      // urgent pointer (38–39), options (40…).
      a.loadBigEndian32(at: 20) == b.loadBigEndian32(at: 20),
      a.loadBigEndian32(at: 28) == b.loadBigEndian32(at: 28),
      (a.loadBigEndian32(at: 32) ^ b.loadBigEndian32(at: 32)) & ~0x0008_0000 == 0,
      a.loadBigEndian16(at: 38) == b.loadBigEndian16(at: 38)
    else { return false }
    var offset = 40
    while offset < headerLength {
      guard a.loadBigEndian32(at: offset) == b.loadBigEndian32(at: offset) else { return false }
      offset &+= 4
    }
    return true
  }

  /// IPv6: every header byte equal except the payload length (4–5), the TCP sequence,
  /// checksum and the PSH bit.
  @inline(__always)
  static func sameHeadersIPv6(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, headerLength: Int)
    -> Bool
  {
    // Version, traffic class, flow label (0–3); next header, hop limit, addresses (6–39).
    guard a.loadBigEndian32(at: 0) == b.loadBigEndian32(at: 0),
      a.loadBigEndian16(at: 6) == b.loadBigEndian16(at: 6),
      IPv6Packet.sameAddresses(a, b),
      // TCP: ports (40–43), acknowledgement (48–51), offset/flags/window (52–55) minus PSH,
      // urgent pointer (58–59), options (60…).
      a.loadBigEndian32(at: 40) == b.loadBigEndian32(at: 40),
      a.loadBigEndian32(at: 48) == b.loadBigEndian32(at: 48),
      (a.loadBigEndian32(at: 52) ^ b.loadBigEndian32(at: 52)) & ~0x0008_0000 == 0,
      a.loadBigEndian16(at: 58) == b.loadBigEndian16(at: 58)
    else { return false }
    var offset = 60
    while offset < headerLength {
      guard a.loadBigEndian32(at: offset) == b.loadBigEndian32(at: offset) else { return false }
      offset &+= 4
    }
    return true
  }
}
