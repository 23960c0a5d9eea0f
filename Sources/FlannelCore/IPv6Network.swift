/// An IPv6 network in CIDR form. The host bits of `address` are always zero, so two values
/// naming the same network compare equal whatever text they were written from.
public struct IPv6Network: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let address: IPv6Address
  public let prefixLength: Int

  /// Masks off the host bits of `address`.
  public init(address: IPv6Address, prefixLength: Int) {
    precondition(
      (0...128).contains(prefixLength), "IPv6 prefix length \(prefixLength) not in 0...128")
    self.prefixLength = prefixLength
    self.address = address & Self.mask(prefixLength: prefixLength)
  }

  /// Parses "<IPv6 address>/n" as Go's net.ParseCIDR does and masks the host bits
  /// ("fc00::1/48" is fc00::/48): the address as `IPv6Address` reads it, the length decimal
  /// digits (leading zeros allowed, as Go's reader allows them) up to 128. An IPv4 address
  /// ("10.0.0.0/8") is refused: Go would read it as a /8 of the IPv6 space, which is never
  /// what an IPv6 network in a config means.
  public init?(_ cidr: String) {
    guard let slash = cidr.utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
    let addressText = cidr[..<slash]
    let digits = cidr.utf8[cidr.utf8.index(after: slash)...]
    guard addressText.utf8.contains(UInt8(ascii: ":")),
      let address = IPv6Address(String(addressText)),
      !digits.isEmpty
    else { return nil }
    var length = 0
    for digit in digits {
      guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else { return nil }
      length = length * 10 + Int(digit - UInt8(ascii: "0"))
      guard length <= 128 else { return nil }
    }
    self.init(address: address, prefixLength: length)
  }

  /// The netmask for a prefix length (0 for /0).
  public static func mask(prefixLength: Int) -> IPv6Address {
    switch prefixLength {
    case 0: .zero
    case 1...64: IPv6Address(high: UInt64.max << UInt64(64 - prefixLength), low: 0)
    default: IPv6Address(high: .max, low: UInt64.max << UInt64(128 - prefixLength))
    }
  }

  public var mask: IPv6Address { Self.mask(prefixLength: prefixLength) }

  /// The last address of the network.
  public var lastAddress: IPv6Address { address | ~mask }

  /// The network of the same length right after this one; nil when this is the last one.
  public var next: IPv6Network? {
    guard prefixLength > 0,
      let start = lastAddress.advanced(by: 1)
    else { return nil }
    return IPv6Network(address: start, prefixLength: prefixLength)
  }

  public func contains(_ ip: IPv6Address) -> Bool {
    ip & mask == address
  }

  public func contains(_ other: IPv6Network) -> Bool {
    other.prefixLength >= prefixLength && contains(other.address)
  }

  /// Flannel's overlap rule: mask both addresses with the shorter of the two prefixes and
  /// compare, i.e. one network contains the other.
  public func overlaps(_ other: IPv6Network) -> Bool {
    let shorter = Self.mask(prefixLength: min(prefixLength, other.prefixLength))
    return address & shorter == other.address & shorter
  }

  public var description: String { "\(address)/\(prefixLength)" }

  /// Orders by address, then by prefix length (shorter first).
  public static func < (lhs: IPv6Network, rhs: IPv6Network) -> Bool {
    (lhs.address, lhs.prefixLength) < (rhs.address, rhs.prefixLength)
  }
}
