/// Receive-side GRO for the TUN, UDP flavour: merges consecutive datagrams of one flow (as a
/// UDP GRO train of the underlay delivers them, back to back in one buffer) into one USO
/// super-packet written into the TUN with a virtio header {NEEDS_CSUM, UDP_L4, gso_size}.
/// Only used when the kernel accepted TUN_F_USO4: a kernel that knows UDP_L4 on the TUN's
/// read side also takes it on the write side (Linux 6.2+).
///
/// The merge is the exact inverse of `SuperPacket.split` with a UDP gso type: merging
/// packets and splitting the result gives back the same bytes. So only packets the split
/// could have produced are merged (perf-notes §1.4): plain IPv4 (no options, no fragment)
/// or IPv6 without extension headers (no IP ID: any run of one flow's datagrams),
/// UDP length equal to the IP payload length, a payload, valid IPv4 header and UDP
/// checksums, IP ID following the previous, every other header byte equal, and payloads no
/// longer than the first's (a shorter one ends the super-packet). Merging only appends to
/// the super-packet being built (no reordering).
///
/// A UDP checksum of 0 ("none", RFC 768) is refused: split always writes a computed
/// checksum (0xffff for a computed 0), so such a datagram could not come back as it was.
/// Any other field value that verifies is exactly the one split computes (0 and 0xffff are
/// both "zero" in one's complement, and 0xffff is what split writes).
///
/// Pure code on raw memory, no allocation; the payloads stay where they are (the forwarder
/// gathers them with an iovec per packet), only the first packet's header is rewritten.
public struct UDPCoalescer {
  /// What `segment(_:length:)` learned about a mergeable datagram.
  public struct Segment: Equatable, Sendable {
    public var payloadLength: Int
    /// IPv4's ID (IPv6: 0, and it does not step).
    public var identification: UInt16
    /// `headerLength` or `ipv6HeaderLength`.
    public var headerLength = UDPCoalescer.headerLength
  }

  /// IPv4 (20, no options) plus UDP (8).
  public static let headerLength = 28
  /// IPv6 (40, no extension headers) plus UDP (8).
  public static let ipv6HeaderLength = 48
  /// Most segments in one super-packet (UDP_GRO_CNT_MAX; a GRO train holds no more).
  public static let maxSegments = 64
  /// An IPv4 packet's total length is 16 bits.
  public static let maxLength = 65535

  /// The first packet of the super-packet being built (nil: none).
  public private(set) var head: UnsafeMutableRawPointer?
  public private(set) var count = 0
  private var segmentSize = 0
  private var payloadBytes = 0
  private var nextIdentification: UInt16 = 0
  private var identificationStep: UInt16 = 1
  private var headerLength = UDPCoalescer.headerLength
  /// A shorter datagram was appended: nothing may follow.
  private var closed = false

  public init() {}

  /// The packet as a merge candidate, or nil when it must be written as it is. Checks the
  /// IPv4 and UDP headers and both checksums (one pass over the packet).
  @inline(__always)
  public static func segment(_ packet: UnsafeRawPointer, length: Int) -> Segment? {
    if length > ipv6HeaderLength && packet.load(as: UInt8.self) >> 4 == 6 {
      return segmentIPv6(packet, length: length)
    }
    guard length > headerLength, packet.load(as: UInt8.self) == 0x45,
      packet.load(fromByteOffset: IPv4Packet.protocolOffset, as: UInt8.self)
        == IPv4Packet.protocolUDP,
      packet.loadBigEndian16(at: 6) & 0x3fff == 0,
      Int(packet.loadBigEndian16(at: 2)) == length,
      Int(packet.loadBigEndian16(at: 24)) == length &- 20,
      packet.loadBigEndian16(at: 26) != 0,
      // finish() recomputes the head's header checksum: a corrupt header must not come out
      // repaired.
      IPv4Packet.headerChecksumIsValid(packet)
    else { return nil }
    let l4Length = length &- 20
    let pseudo = IPv4Packet.pseudoHeaderSum(packet, l4Length: l4Length)
    guard Checksum.sum(packet + 20, length: l4Length, initial: pseudo) == 0xffff else {
      return nil
    }
    return Segment(
      payloadLength: length &- headerLength, identification: packet.loadBigEndian16(at: 4))
  }

  /// The same for an IPv6 datagram: no extension headers, payload length and UDP length
  /// right, a non-zero checksum that verifies with the IPv6 pseudo-header.
  @inline(never)
  static func segmentIPv6(_ packet: UnsafeRawPointer, length: Int) -> Segment? {
    let ip = IPv6Packet.headerLength
    guard
      packet.load(fromByteOffset: IPv6Packet.nextHeaderOffset, as: UInt8.self)
        == IPv4Packet.protocolUDP,
      IPv6Packet.end(packet) == length,
      Int(packet.loadBigEndian16(at: ip &+ 4)) == length &- ip,
      packet.loadBigEndian16(at: ip &+ 6) != 0
    else { return nil }
    let l4Length = length &- ip
    let pseudo = IPv6Packet.pseudoHeaderSum(
      packet, upperLayerLength: l4Length, protocolNumber: IPv4Packet.protocolUDP)
    guard Checksum.sum(packet + ip, length: l4Length, initial: pseudo) == 0xffff else {
      return nil
    }
    return Segment(
      payloadLength: length &- ipv6HeaderLength, identification: 0,
      headerLength: ipv6HeaderLength)
  }

  /// Starts a super-packet with `packet` (a candidate) as its first segment.
  @inline(__always)
  public mutating func start(_ packet: UnsafeMutableRawPointer, _ segment: Segment) {
    head = packet
    count = 1
    headerLength = segment.headerLength
    identificationStep = segment.headerLength == Self.headerLength ? 1 : 0
    segmentSize = segment.payloadLength
    payloadBytes = segment.payloadLength
    nextIdentification = segment.identification &+ identificationStep
    closed = false
  }

  /// Appends `packet` (a candidate) when it continues the super-packet; false leaves both
  /// untouched (the caller finishes this one and may start another with the packet).
  @inline(__always)
  public mutating func append(_ packet: UnsafeRawPointer, _ segment: Segment) -> Bool {
    guard let head, !closed, count < Self.maxSegments, segment.payloadLength <= segmentSize,
      segment.identification == nextIdentification, segment.headerLength == headerLength,
      headerLength &+ payloadBytes &+ segment.payloadLength <= Self.maxLength,
      headerLength == Self.headerLength
        ? Self.sameHeaders(UnsafeRawPointer(head), packet)
        : Self.sameHeadersIPv6(UnsafeRawPointer(head), packet)
    else { return false }
    count &+= 1
    payloadBytes &+= segment.payloadLength
    nextIdentification &+= identificationStep
    closed = segment.payloadLength < segmentSize
    return true
  }

  /// Ends the super-packet: with one segment, `virtioHeader` gets a plain header and the
  /// packet is left as it is; with more, the first packet's header becomes the super-packet's
  /// (IPv4 total length and header checksum, UDP length, the pseudo-header sum in the UDP
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
    let total = headerLength &+ payloadBytes
    let ip = headerLength &- 8
    head.storeBigEndian16(UInt16(truncatingIfNeeded: total &- ip), at: ip &+ 4)
    if ip == 20 {
      IPv4Packet.rewriteAsSuperPacket(head, total: total, checksumField: 26)
    } else {
      IPv6Packet.rewriteAsSuperPacket(head, total: total, checksumField: ip &+ 6)
    }
    VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoUDP,
      headerLength: UInt16(headerLength), gsoSize: UInt16(truncatingIfNeeded: segmentSize),
      checksumStart: UInt16(ip), checksumOffset: 6
    ).store(virtioHeader)
    return segments
  }

  /// Every header byte equal except those that differ between the segments of one
  /// super-packet: IP total length, ID and checksum; UDP length and checksum.
  @inline(__always)
  static func sameHeaders(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> Bool {
    // IPv4: version/IHL/ToS (0–1), flags/fragment/TTL/protocol (6–9), addresses (12–19);
    // UDP ports (20–23).
    a.loadBigEndian16(at: 0) == b.loadBigEndian16(at: 0)
      && a.loadBigEndian32(at: 6) == b.loadBigEndian32(at: 6)
      && a.loadUnaligned(fromByteOffset: 12, as: UInt64.self)
        == b.loadUnaligned(fromByteOffset: 12, as: UInt64.self)
      && a.loadBigEndian32(at: 20) == b.loadBigEndian32(at: 20)
  }

  /// IPv6: every header byte equal except the payload length, UDP length and checksum.
  @inline(__always)
  static func sameHeadersIPv6(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> Bool {
    // Version/class/flow (0–3), next header/hop limit (6–7), addresses (8–39), ports (40–43).
    a.loadBigEndian32(at: 0) == b.loadBigEndian32(at: 0)
      && a.loadBigEndian16(at: 6) == b.loadBigEndian16(at: 6)
      && IPv6Packet.sameAddresses(a, b)
      && a.loadBigEndian32(at: 40) == b.loadBigEndian32(at: 40)
  }
}
