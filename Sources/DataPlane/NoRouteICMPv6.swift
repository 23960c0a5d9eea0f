/// The ICMPv6 "destination unreachable, no route to destination" (type 1, code 0, RFC 4443
/// §3.1) that the udp backend writes back into the TUN for an IPv6 packet to an address in no
/// lease's IPv6 subnet: the IPv6 twin of `NetUnreachable`, with the same limits — the quote is
/// the offender's header and 8 bytes more (as the IPv4 reply quotes header + 8), so the reply
/// fits the TUN buffer's scratch space, and, like the IPv4 reply, one per offending packet
/// (no rate limit of its own: the offender's sender paces it).
public enum NoRouteICMPv6 {
  /// 40 (IPv6) + 8 (ICMPv6) + `quotedLimit`.
  public static let maximumLength = 96
  /// The offender's 40-byte header and the 8 bytes after it.
  public static let quotedLimit = 48
  static let hopLimit: UInt8 = 64
  static let typeDestinationUnreachable: UInt8 = 1
  static let codeNoRoute: UInt8 = 0

  /// Writes the reply for `offender` into `output` and returns its length, or 0 when none is
  /// due (RFC 4443 §2.4 (e)): the offender fails `IPv6Packet.check`, is sent to a multicast
  /// address or from the unspecified or a multicast one, is an ICMPv6 error message (type
  /// < 128, or too short to say) or a fragment other than the first, or `capacity` is too
  /// small. The reply's source is `tunHigh`/`tunLow` (flannel0's IPv6 address), its
  /// destination the offender's source; the checksum covers the IPv6 pseudo-header.
  public static func build(
    offender: UnsafeRawPointer, length: Int, tunHigh: UInt64, tunLow: UInt64,
    into output: UnsafeMutableRawPointer, capacity: Int
  ) -> Int {
    guard IPv6Packet.check(offender, length: length) == .forward else { return 0 }
    guard IPv6Packet.destinationHigh(offender) >> 56 != 0xff else { return 0 }
    let sourceHigh = IPv6Packet.sourceHigh(offender)
    let sourceLow = IPv6Packet.sourceLow(offender)
    guard sourceHigh >> 56 != 0xff, sourceHigh != 0 || sourceLow != 0 else { return 0 }
    let end = IPv6Packet.end(offender)
    guard let upper = IPv6Packet.upperLayer(offender, end: end), !upper.laterFragment else {
      return 0
    }
    if upper.protocolNumber == IPv6Packet.protocolICMPv6 {
      guard upper.offset < end, offender.load(fromByteOffset: upper.offset, as: UInt8.self) >= 128
      else { return 0 }
    }
    let quoted = min(end, quotedLimit)
    let icmpLength = 8 &+ quoted
    let total = IPv6Packet.headerLength &+ icmpLength
    guard capacity >= total else { return 0 }

    // IPv6 header: version 6, traffic class and flow label 0.
    output.storeBigEndian32(0x6000_0000, at: 0)
    output.storeBigEndian16(UInt16(icmpLength), at: 4)
    output.storeBytes(
      of: IPv6Packet.protocolICMPv6, toByteOffset: IPv6Packet.nextHeaderOffset, as: UInt8.self)
    output.storeBytes(of: hopLimit, toByteOffset: IPv6Packet.hopLimitOffset, as: UInt8.self)
    output.storeBigEndian64(tunHigh, at: 8)
    output.storeBigEndian64(tunLow, at: 16)
    output.storeBigEndian64(sourceHigh, at: 24)
    output.storeBigEndian64(sourceLow, at: 32)

    // ICMPv6: type 1, code 0, checksum, 4 unused bytes; then the quote.
    let icmp = output + IPv6Packet.headerLength
    icmp.storeBytes(of: typeDestinationUnreachable, toByteOffset: 0, as: UInt8.self)
    icmp.storeBytes(of: codeNoRoute, toByteOffset: 1, as: UInt8.self)
    icmp.storeBigEndian16(0, at: 2)
    icmp.storeBigEndian32(0, at: 4)
    (icmp + 8).copyMemory(from: offender, byteCount: quoted)
    let pseudo = IPv6Packet.pseudoHeaderSum(
      UnsafeRawPointer(output), upperLayerLength: icmpLength,
      protocolNumber: IPv6Packet.protocolICMPv6)
    let checksum = ~Checksum.sum(
      UnsafeRawPointer(icmp), length: icmpLength, initial: UInt32(Checksum.fold(UInt64(pseudo))))
    icmp.storeBigEndian16(checksum, at: 2)
    return total
  }
}
