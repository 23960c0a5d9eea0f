/// The ICMP "destination net unreachable" (type 3, code 0) that stock flanneld's udp proxy
/// writes back into the TUN when it has no route for a packet (flannel-behaviour.md §4.6).
public enum NetUnreachable {
  /// Largest reply: 20 (IP) + 8 (ICMP) + 56 (largest quoted header, since IHL·4 ≥ 60 is not
  /// answered) + 8 (quoted payload).
  public static let maximumLength = 92
  static let ttl: UInt8 = 8

  /// Writes the reply for `offender` into `output` and returns its length, or 0 when none is
  /// due: the offender is an ICMP error message, a non-first fragment, has IHL·4 ≥ 60, or fails
  /// `IPv4Packet.check`, or `capacity` is too small.
  ///
  /// Unlike stock flanneld, which answers no ICMP at all, ICMP queries (echo request, …) are
  /// answered, so `ping` to a subnet nobody holds says "Destination Net Unreachable" instead of
  /// timing out; errors about ICMP errors stay forbidden (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7). `tunAddress` (host order) is the reply's source: the lease's
  /// network address. Quoted bytes past the end of a tiny offender are zero (flannel copies
  /// whatever follows in its buffer).
  /// Destination unreachable, source quench, redirect, time exceeded, parameter problem.
  static func isICMPError(_ type: UInt8) -> Bool {
    type == 3 || type == 4 || type == 5 || type == 11 || type == 12
  }

  public static func build(
    offender: UnsafeRawPointer, length: Int, tunAddress: UInt32,
    into output: UnsafeMutableRawPointer, capacity: Int
  ) -> Int {
    guard IPv4Packet.check(offender, length: length) == .forward else { return 0 }
    let quotedHeader = IPv4Packet.headerLength(offender)
    guard quotedHeader < 60 else { return 0 }
    if offender.load(fromByteOffset: IPv4Packet.protocolOffset, as: UInt8.self)
      == IPv4Packet.protocolICMP
    {
      guard length > quotedHeader,
        !isICMPError(offender.load(fromByteOffset: quotedHeader, as: UInt8.self))
      else { return 0 }
    }
    guard offender.loadBigEndian16(at: 6) & 0x1fff == 0 else { return 0 }
    let quoted = quotedHeader &+ 8
    let total = 20 &+ 8 &+ quoted
    guard capacity >= total else { return 0 }

    // IPv4 header: v4, IHL 5, TOS 0, ID 0, no fragment bits, TTL 8, ICMP.
    output.storeBytes(of: 0x45, toByteOffset: 0, as: UInt8.self)
    output.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)
    output.storeBigEndian16(UInt16(total), at: 2)
    output.storeBigEndian32(0, at: 4)
    output.storeBytes(of: ttl, toByteOffset: 8, as: UInt8.self)
    output.storeBytes(
      of: IPv4Packet.protocolICMP, toByteOffset: IPv4Packet.protocolOffset, as: UInt8.self)
    output.storeBigEndian16(0, at: 10)
    output.storeBigEndian32(tunAddress, at: 12)
    output.storeBigEndian32(IPv4Packet.source(offender), at: 16)
    output.storeBigEndian16(Checksum.compute(UnsafeRawPointer(output), length: 20), at: 10)

    // ICMP header: type 3, code 0, checksum, 4 unused bytes; then the quoted bytes.
    let icmp = output + 20
    icmp.storeBigEndian32(0x0300_0000, at: 0)
    icmp.storeBigEndian32(0, at: 4)
    let available = min(quoted, length)
    (icmp + 8).copyMemory(from: offender, byteCount: available)
    if available < quoted {
      (icmp + 8 + available).initializeMemory(
        as: UInt8.self, repeating: 0, count: quoted &- available)
    }
    icmp.storeBigEndian16(Checksum.compute(UnsafeRawPointer(icmp), length: 8 &+ quoted), at: 2)
    return total
  }
}
