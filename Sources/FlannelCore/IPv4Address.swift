/// An IPv4 address held as a 32-bit number in host byte order, so that subnet arithmetic
/// (masking, stepping by subnet size, comparing) is plain integer arithmetic.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var value: UInt32

  public init(_ value: UInt32) {
    self.value = value
  }

  /// Parses a strict dotted quad: exactly four decimal octets 0...255, ASCII digits only.
  /// Leading zeros ("010.1.1.1") are rejected, like Go's net.ParseIP since Go 1.17, because
  /// other tools read them as octal and the same text would name two different hosts.
  public init?(_ text: String) {
    var result: UInt32 = 0
    var octets = 0
    for part in text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
      guard let octet = Self.parseOctet(part) else { return nil }
      result = result << 8 | UInt32(octet)
      octets += 1
      if octets > 4 { return nil }
    }
    guard octets == 4 else { return nil }
    self.value = result
  }

  private static func parseOctet(_ digits: Substring.UTF8View.SubSequence) -> UInt8? {
    guard (1...3).contains(digits.count) else { return nil }
    if digits.count > 1 && digits.first == UInt8(ascii: "0") { return nil }
    var number = 0
    for byte in digits {
      guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
      number = number * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return number <= 255 ? UInt8(number) : nil
  }

  public var description: String {
    "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
  }

  public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
    lhs.value < rhs.value
  }
}
