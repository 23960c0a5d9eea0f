/// An IPv4 network in CIDR form. The host bits of `address` are always zero, so two values
/// naming the same network compare equal whatever text they were written from.
public struct IPv4Network: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let address: IPv4Address
  public let prefixLength: Int

  /// Masks off the host bits of `address`.
  public init(address: IPv4Address, prefixLength: Int) {
    precondition(
      (0...32).contains(prefixLength), "IPv4 prefix length \(prefixLength) not in 0...32")
    self.prefixLength = prefixLength
    self.address = IPv4Address(address.value & Self.mask(prefixLength: prefixLength))
  }

  /// Parses "a.b.c.d/n" (n decimal, 0...32, no leading zeros) and masks the host bits:
  /// "172.17.0.1/16" is 172.17.0.0/16, as flannel does when it reads the config Network.
  public init?(_ cidr: String) {
    let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let address = IPv4Address(String(parts[0])) else { return nil }
    let digits = parts[1]
    guard (1...2).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
      !(digits.count == 2 && digits.first == "0"), let length = Int(digits), length <= 32
    else { return nil }
    self.init(address: address, prefixLength: length)
  }

  /// The netmask for a prefix length; 0 for /0 (a shift by 32 would not be defined in C,
  /// Swift's smart shift gives 0 but the intent is clearer spelled out).
  public static func mask(prefixLength: Int) -> UInt32 {
    prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
  }

  public var mask: UInt32 { Self.mask(prefixLength: prefixLength) }

  /// Number of addresses in the network, 2^(32-prefix); UInt64 because /0 holds 2^32.
  public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

  /// The last address of the network (the broadcast address for ordinary subnets).
  public var lastAddress: IPv4Address { IPv4Address(address.value | ~mask) }

  public func contains(_ ip: IPv4Address) -> Bool {
    ip.value & mask == address.value
  }

  public func contains(_ other: IPv4Network) -> Bool {
    other.prefixLength >= prefixLength && contains(other.address)
  }

  /// Flannel's overlap rule: mask both addresses with the shorter of the two prefixes and
  /// compare, i.e. one network contains the other.
  public func overlaps(_ other: IPv4Network) -> Bool {
    let shorter = Self.mask(prefixLength: min(prefixLength, other.prefixLength))
    return address.value & shorter == other.address.value & shorter
  }

  public var description: String { "\(address)/\(prefixLength)" }

  /// Orders by address, then by prefix length (shorter first).
  public static func < (lhs: IPv4Network, rhs: IPv4Network) -> Bool {
    (lhs.address, lhs.prefixLength) < (rhs.address, rhs.prefixLength)
  }
}
