#if canImport(Glibc)
  import Glibc
#endif

/// Why a packet was not forwarded. The raw values index the drop counters.
public enum PacketVerdict: Equatable, Sendable {
  case forward
  /// Fewer than 20 bytes: not even an IPv4 header.
  case short
  /// The version nibble is not 4 (IPv6 router solicitations reach flannel0, for example), nor 6
  /// on a dual-stack network.
  case notIPv4
  /// IHL below 5 or a header longer than the bytes received.
  case badHeader
  /// TTL reached zero after the decrement (stock flannel drops silently, no time-exceeded).
  case ttlExpired
  /// IPv6: fewer than 40 bytes, a payload length past the end, or extension headers that are
  /// truncated or too many.
  case malformedIPv6
  /// IPv6: the hop limit reached zero after the decrement.
  case hopLimitExpired
  /// IPv6 received from a peer: the inner source is outside the sending peer's IPv6 subnet.
  case wrongSource
  /// Received over the IPv6 underlay (an IPv6-only network): not an IPv6 packet.
  case notIPv6
  /// Not a packet for the TUN, already handled and counted where it was found (a WireGuard
  /// handshake message or keepalive, or a message the tunnel dropped).
  case consumed
}

/// Pure operations on an IPv4 packet held in caller memory. Nothing here allocates, throws or
/// retains: the Forwarder calls them once per packet.
public enum IPv4Packet {
  public static let minimumHeaderLength = 20
  /// Where the protocol number sits in the header, and the numbers the data plane looks at.
  public static let protocolOffset = 9
  public static let protocolICMP = UInt8(IPPROTO_ICMP)
  public static let protocolTCP = UInt8(IPPROTO_TCP)
  public static let protocolUDP = UInt8(IPPROTO_UDP)

  /// Header sanity: at least 20 bytes, version 4, 5 ≤ IHL and IHL·4 ≤ length.
  @inline(__always)
  public static func check(_ packet: UnsafeRawPointer, length: Int) -> PacketVerdict {
    guard length >= minimumHeaderLength else { return .short }
    let versionAndIHL = packet.load(as: UInt8.self)
    guard versionAndIHL >> 4 == 4 else { return .notIPv4 }
    let headerLength = Int(versionAndIHL & 0x0f) &* 4
    guard headerLength >= minimumHeaderLength && headerLength <= length else { return .badHeader }
    return .forward
  }

  /// Header length in bytes (IHL·4); only meaningful after `check` said `.forward`.
  @inline(__always)
  public static func headerLength(_ packet: UnsafeRawPointer) -> Int {
    Int(packet.load(as: UInt8.self) & 0x0f) &* 4
  }

  /// Destination address, host byte order.
  @inline(__always)
  public static func destination(_ packet: UnsafeRawPointer) -> UInt32 {
    packet.loadBigEndian32(at: 16)
  }

  /// Source address, host byte order.
  @inline(__always)
  public static func source(_ packet: UnsafeRawPointer) -> UInt32 {
    packet.loadBigEndian32(at: 12)
  }

  /// Decrements the TTL and patches the header checksum incrementally (RFC 1624), as a
  /// router does. Returns `.ttlExpired` (and leaves the packet unchanged) when the TTL would
  /// reach zero; a packet that arrives with TTL 0 is expired too.
  @inline(__always)
  public static func decrementTTL(_ packet: UnsafeMutableRawPointer) -> PacketVerdict {
    let ttl = packet.load(fromByteOffset: 8, as: UInt8.self)
    guard ttl > 1 else { return .ttlExpired }
    // TTL is the high byte of the 16-bit word at offset 8 (TTL, protocol).
    let oldWord = UnsafeRawPointer(packet).loadBigEndian16(at: 8)
    let newWord = oldWord &- 0x0100
    let checksum = UnsafeRawPointer(packet).loadBigEndian16(at: 10)
    packet.storeBytes(of: ttl &- 1, toByteOffset: 8, as: UInt8.self)
    packet.storeBigEndian16(Checksum.update(checksum, old: oldWord, new: newWord), at: 10)
    return .forward
  }

  /// Recomputes the header checksum from scratch (field zeroed first).
  @inline(__always)
  public static func setHeaderChecksum(_ packet: UnsafeMutableRawPointer) {
    packet.storeBigEndian16(0, at: 10)
    packet.storeBigEndian16(~headerSum(UnsafeRawPointer(packet)), at: 10)
  }

  /// The one's-complement sum over the header. Inlined with the length known for the usual
  /// 20-byte header: the split and the coalescers run this once per packet, and a call with a
  /// variable length cost as much as the arithmetic.
  @inline(__always)
  static func headerSum(_ packet: UnsafeRawPointer) -> UInt16 {
    let length = headerLength(packet)
    return length == minimumHeaderLength
      ? Checksum.sum(packet, length: minimumHeaderLength) : Checksum.sum(packet, length: length)
  }

  /// The one's-complement sum (unfolded) of the TCP/UDP pseudo-header: both addresses, the
  /// protocol (from the header) and `l4Length`. Shared by the split, which completes each
  /// segment's checksum, and the coalescers, which leave it in the super-packet for the kernel.
  @inline(__always)
  public static func pseudoHeaderSum(_ packet: UnsafeRawPointer, l4Length: Int) -> UInt32 {
    UInt32(packet.loadBigEndian16(at: 12)) &+ UInt32(packet.loadBigEndian16(at: 14))
      &+ UInt32(packet.loadBigEndian16(at: 16)) &+ UInt32(packet.loadBigEndian16(at: 18))
      &+ UInt32(packet.load(fromByteOffset: 9, as: UInt8.self))
      &+ UInt32(truncatingIfNeeded: l4Length)
  }

  /// Turns a coalescer's first packet into the header of a `total`-byte super-packet: total
  /// length and header checksum, and the pseudo-header sum (not inverted) in the L4 checksum
  /// field at `checksumField` — the kernel completes it (virtio NEEDS_CSUM).
  @inline(__always)
  static func rewriteAsSuperPacket(
    _ head: UnsafeMutableRawPointer, total: Int, checksumField: Int
  ) {
    head.storeBigEndian16(UInt16(truncatingIfNeeded: total), at: 2)
    setHeaderChecksum(head)
    let pseudo = pseudoHeaderSum(UnsafeRawPointer(head), l4Length: total &- 20)
    head.storeBigEndian16(Checksum.fold(UInt64(pseudo)), at: checksumField)
  }

  /// True when the header checksum verifies (sum over the header, field included, is 0xffff).
  @inline(__always)
  public static func headerChecksumIsValid(_ packet: UnsafeRawPointer) -> Bool {
    headerSum(packet) == 0xffff
  }
}
