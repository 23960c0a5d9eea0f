/// An IPv6 address held as one 128-bit number in two halves (host byte order), so that subnet
/// arithmetic (masking, stepping by subnet size, comparing) is integer arithmetic, as
/// `IPv4Address` does with 32 bits.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The first 64 bits (the ones a /64 prefix covers).
  public var high: UInt64
  /// The last 64 bits.
  public var low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  public static let zero = IPv6Address(high: 0, low: 0)

  /// `::ffff:a.b.c.d`, the form Go's net.ParseIP gives a dotted quad.
  public init(ipv4Mapped ipv4: IPv4Address) {
    self.init(high: 0, low: 0xffff_0000_0000 | UInt64(ipv4.value))
  }

  /// Sixteen bytes in network order; nil for any other count.
  public init?(bytes: some Collection<UInt8>) {
    guard bytes.count == 16 else { return nil }
    var high: UInt64 = 0
    var low: UInt64 = 0
    for (index, byte) in bytes.enumerated() {
      if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
    }
    self.init(high: high, low: low)
  }

  /// Sixteen bytes in network order (for netlink and sockets).
  public var bytes: [UInt8] {
    (0..<16).map { index in
      let half = index < 8 ? high : low
      return UInt8(truncatingIfNeeded: half >> UInt64(56 - 8 * (index % 8)))
    }
  }

  /// The eight 16-bit groups of the text form, first to last.
  public var groups: [UInt16] {
    (0..<8).map { index in
      let half = index < 4 ? high : low
      return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (index % 4)))
    }
  }

  /// The IPv4 address inside `::ffff:0:0/96`, else nil.
  public var ipv4Mapped: IPv4Address? {
    guard high == 0, low >> 32 == 0xffff else { return nil }
    return IPv4Address(UInt32(truncatingIfNeeded: low))
  }

  public var isZero: Bool { high == 0 && low == 0 }

  /// Accepts exactly what Go's net.ParseIP accepts (it calls netip.ParseAddr and refuses
  /// zones): RFC 4291 text with at most one `::` that stands for at least one zero group,
  /// hex digits in either case, a trailing dotted quad in place of the last two groups, and
  /// a bare dotted quad, which becomes `::ffff:a.b.c.d`. Like Go (since netip), a group has
  /// at most four hex digits ("00001::" is refused). Any `%zone` is refused.
  public init?(_ text: String) {
    let utf8 = Array(text.utf8)
    for byte in utf8 {
      if byte == UInt8(ascii: ".") {
        guard let ipv4 = IPv4Address(text) else { return nil }
        self.init(ipv4Mapped: ipv4)
        return
      }
      if byte == UInt8(ascii: ":") {
        guard let parsed = Self.parseColonForm(utf8) else { return nil }
        self = parsed
        return
      }
      if byte == UInt8(ascii: "%") { return nil }
    }
    return nil
  }

  /// netip's IPv6 grammar, over bytes; `%` (a zone) fails as an unexpected character.
  private static func parseColonForm(_ text: [UInt8]) -> IPv6Address? {
    var bytes = [UInt8](repeating: 0, count: 16)
    var position = 0
    var filled = 0
    var ellipsis = -1
    if text.count >= 2 && text[0] == UInt8(ascii: ":") && text[1] == UInt8(ascii: ":") {
      ellipsis = 0
      position = 2
      if position == text.count { return .zero }
    }
    while filled < 16 {
      var end = position
      var group: UInt32 = 0
      while end < text.count, let digit = hexValue(text[end]) {
        // Go's netip: "each group must have 4 or less digits".
        guard end - position < 4 else { return nil }
        group = group << 4 | UInt32(digit)
        end += 1
      }
      if end == position { return nil }
      if end < text.count && text[end] == UInt8(ascii: ".") {
        // The dotted quad must fill the last two groups: after `::`, or at group seven.
        guard ellipsis >= 0 || filled == 12, filled + 4 <= 16,
          let ipv4 = IPv4Address(String(decoding: text[position...], as: UTF8.self))
        else { return nil }
        for shift in 0..<4 {
          bytes[filled + shift] = UInt8(truncatingIfNeeded: ipv4.value >> UInt32(24 - 8 * shift))
        }
        filled += 4
        position = text.count
        break
      }
      bytes[filled] = UInt8(group >> 8)
      bytes[filled + 1] = UInt8(group & 0xff)
      filled += 2
      position = end
      if position == text.count { break }
      guard text[position] == UInt8(ascii: ":"), position + 1 < text.count else { return nil }
      position += 1
      if text[position] == UInt8(ascii: ":") {
        if ellipsis >= 0 { return nil }
        ellipsis = filled
        position += 1
        if position == text.count { break }
      }
    }
    guard position == text.count else { return nil }
    if filled < 16 {
      guard ellipsis >= 0 else { return nil }
      let gap = 16 - filled
      for index in stride(from: filled - 1, through: ellipsis, by: -1) {
        bytes[index + gap] = bytes[index]
      }
      for index in ellipsis..<(ellipsis + gap) { bytes[index] = 0 }
    } else if ellipsis >= 0 {
      return nil  // `::` must stand for at least one group
    }
    return IPv6Address(bytes: bytes)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// Go's net.IP String() for a 16-byte address: `::ffff:a.b.c.d` prints as the dotted quad;
  /// anything else in RFC 5952 form: lower-case hex without leading zeros, the longest run
  /// of two or more zero groups (the first of equal runs) written `::`.
  ///
  /// Stock flannel's own IP6 type differs for one range nobody uses as a network: it prints
  /// `::1.0.0.0`…`::255.255.255.255` as a bare dotted quad too (it goes through big.Int's
  /// shortest bytes); we print those in hex.
  public var description: String {
    if let ipv4 = ipv4Mapped { return ipv4.description }
    let groups = groups
    var runStart = -1
    var runLength = 0
    var index = 0
    while index < 8 {
      var end = index
      while end < 8 && groups[end] == 0 { end += 1 }
      if end - index >= 2 && end - index > runLength {
        runStart = index
        runLength = end - index
      }
      index = end == index ? index + 1 : end
    }
    var text = ""
    var group = 0
    while group < 8 {
      if group == runStart {
        text += "::"
        group += runLength
        continue
      }
      if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
      text += String(groups[group], radix: 16)
      group += 1
    }
    return text
  }

  public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
    (lhs.high, lhs.low) < (rhs.high, rhs.low)
  }
}

// MARK: - 128-bit arithmetic

extension IPv6Address {
  /// 2^exponent, exponent in 0...127 (the size of a /(128 - exponent)).
  public static func powerOfTwo(_ exponent: Int) -> IPv6Address {
    precondition((0...127).contains(exponent), "2^\(exponent) does not fit 128 bits")
    return exponent >= 64
      ? IPv6Address(high: 1 << UInt64(exponent - 64), low: 0)
      : IPv6Address(high: 0, low: 1 << UInt64(exponent))
  }

  public func addingReportingOverflow(
    _ other: IPv6Address
  ) -> (partialValue: IPv6Address, overflow: Bool) {
    let (low, carry) = low.addingReportingOverflow(other.low)
    let (partialHigh, overflowHigh) = high.addingReportingOverflow(other.high)
    let (high, overflowCarry) = partialHigh.addingReportingOverflow(carry ? 1 : 0)
    return (IPv6Address(high: high, low: low), overflowHigh || overflowCarry)
  }

  public func subtractingReportingOverflow(
    _ other: IPv6Address
  ) -> (partialValue: IPv6Address, overflow: Bool) {
    let (low, borrow) = low.subtractingReportingOverflow(other.low)
    let (partialHigh, overflowHigh) = high.subtractingReportingOverflow(other.high)
    let (high, overflowBorrow) = partialHigh.subtractingReportingOverflow(borrow ? 1 : 0)
    return (IPv6Address(high: high, low: low), overflowHigh || overflowBorrow)
  }

  /// The address `count` further on; nil past ffff:…:ffff.
  public func advanced(by count: UInt64) -> IPv6Address? {
    let (sum, overflow) = addingReportingOverflow(IPv6Address(high: 0, low: count))
    return overflow ? nil : sum
  }

  public static func & (lhs: IPv6Address, rhs: IPv6Address) -> IPv6Address {
    IPv6Address(high: lhs.high & rhs.high, low: lhs.low & rhs.low)
  }

  public static func | (lhs: IPv6Address, rhs: IPv6Address) -> IPv6Address {
    IPv6Address(high: lhs.high | rhs.high, low: lhs.low | rhs.low)
  }

  public static prefix func ~ (value: IPv6Address) -> IPv6Address {
    IPv6Address(high: ~value.high, low: ~value.low)
  }
}
