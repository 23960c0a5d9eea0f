/// How much zero padding a sender appends to a transport plaintext before sealing it
/// (protocol page and whitepaper §5.4.6: padded to a multiple of 16 bytes, hiding exact
/// packet lengths, but never past the tunnel MTU, so a full-size packet still fits).
public enum TransportPadding {
  public static let multiple = 16

  /// The number of zero bytes to append to a plaintext of `plaintextLength` bytes with a
  /// tunnel MTU of `mtu` (0: no MTU known, pad to the multiple). A plaintext longer than the
  /// MTU (a segment of a GSO super-packet being measured whole) is padded as its last
  /// MTU-sized unit would be, as the kernel module and wireguard-go do.
  @inline(__always)
  public static func paddingLength(plaintextLength: Int, mtu: Int) -> Int {
    precondition(plaintextLength >= 0 && mtu >= 0)
    var last = plaintextLength
    if mtu > 0 && last > mtu { last %= mtu }
    var padded = (last + multiple - 1) & ~(multiple - 1)
    if mtu > 0 && padded > mtu { padded = mtu }
    return padded - last
  }

  /// The sealed length on the wire: header, padded plaintext, tag.
  @inline(__always)
  public static func datagramLength(plaintextLength: Int, mtu: Int) -> Int {
    TransportLayout.minimumSize + plaintextLength
      + paddingLength(plaintextLength: plaintextLength, mtu: mtu)
  }
}
