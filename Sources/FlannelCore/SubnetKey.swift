/// The subnets one lease key names: always an IPv4 part (0.0.0.0/0 for an IPv6-only lease,
/// which is what stock writes then) and, for dual-stack and IPv6-only leases, an IPv6 part.
public struct LeaseSubnets: Hashable, Sendable, CustomStringConvertible {
  public var ipv4: IPv4Network
  public var ipv6: IPv6Network?

  public init(ipv4: IPv4Network, ipv6: IPv6Network? = nil) {
    self.ipv4 = ipv4
    self.ipv6 = ipv6
  }

  /// An IPv6-only lease: the IPv4 part is 0.0.0.0/0.
  public init(ipv6: IPv6Network) {
    self.init(ipv4: IPv4Network(address: IPv4Address(0), prefixLength: 0), ipv6: ipv6)
  }

  /// True when the IPv4 part is 0.0.0.0/0, stock's "no IPv4 subnet".
  public var ipv4IsEmpty: Bool { ipv4.address.value == 0 && ipv4.prefixLength == 0 }

  public var description: String {
    ipv6.map { "\(ipv4)&\($0)" } ?? ipv4.description
  }
}

/// The last path element of a lease key: "10.1.15.0-24", dual-stack
/// "10.5.52.0-24&fc00:0:0:1::-64", IPv6-only "0.0.0.0-0&fc00:0:0:1::-64".
public enum SubnetKey {
  public static func format(_ subnet: IPv4Network) -> String {
    "\(subnet.address)-\(subnet.prefixLength)"
  }

  /// Stock's MakeSubnetKey: the IPv4 part, then `&<IPv6 address>-<length>` when there is an
  /// IPv6 subnet (the address in Go's text form, e.g. fc00:0:0:1::).
  public static func format(_ subnets: LeaseSubnets) -> String {
    guard let ipv6 = subnets.ipv6 else { return format(subnets.ipv4) }
    return format(subnets.ipv4) + "&\(ipv6.address)-\(ipv6.prefixLength)"
  }

  /// The IPv4 part of `parseSubnets`.
  public static func parse(_ key: String) -> IPv4Network? {
    parseSubnets(key)?.ipv4
  }

  /// Accepts a key name or a full key ending in it (".../subnets/10.1.15.0-24"). The IPv4
  /// part: a dotted quad, "-", a prefix of at most three digits up to 32 (leading zeros
  /// allowed, "-024", as flannel's `\d+` + ParseUint reading allows). The optional IPv6 part
  /// follows stock HEAD's key regex `&([a-f\d:]+)-(\d+)$`: lower-case hex digits and colons
  /// only (no dotted quad, no upper case), an address Go's ParseIP accepts, and a length
  /// read with ParseUint into 7 bits, so up to 127 (any number of digits). "::-0" counts
  /// as no IPv6 subnet, as stock's Empty() does.
  ///
  /// Host bits are masked ("10.1.15.1-24" reads as 10.1.15.0/24): flannel would keep the
  /// odd address, but every subnet here is a masked network value, and the masked network
  /// is the one that address range actually occupies for overlap checks.
  public static func parseSubnets(_ key: String) -> LeaseSubnets? {
    let name = key.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
    let halves = name.split(separator: "&", omittingEmptySubsequences: false)
    guard halves.count <= 2,
      let (addressText, length) = splitPrefix(halves[0], maxDigits: 3, maxLength: 32),
      let address = IPv4Address(String(addressText))
    else { return nil }
    var subnets = LeaseSubnets(ipv4: IPv4Network(address: address, prefixLength: length))
    if halves.count == 2 {
      guard let ipv6 = parseIPv6Part(halves[1]) else { return nil }
      if !(ipv6.address.isZero && ipv6.prefixLength == 0) { subnets.ipv6 = ipv6 }
    }
    return subnets
  }

  /// "<address>-<decimal prefix ≤ maxLength>" split at the last "-".
  private static func splitPrefix(
    _ text: Substring, maxDigits: Int, maxLength: Int
  ) -> (Substring, Int)? {
    guard let dash = text.lastIndex(of: "-") else { return nil }
    let digits = text[text.index(after: dash)...]
    guard (1...maxDigits).contains(digits.count),
      digits.allSatisfy({ $0.isASCII && $0.isNumber })
    else { return nil }
    var length = 0
    for digit in digits.utf8 {
      length = length * 10 + Int(digit - UInt8(ascii: "0"))
      if length > maxLength { return nil }
    }
    return (text[..<dash], length)
  }

  private static func parseIPv6Part(_ text: Substring) -> IPv6Network? {
    guard let (addressText, length) = splitPrefix(text, maxDigits: Int.max, maxLength: 127),
      !addressText.isEmpty,
      addressText.utf8.allSatisfy({
        $0 == UInt8(ascii: ":") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
          || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
      }),
      let address = IPv6Address(String(addressText))
    else { return nil }
    return IPv6Network(address: address, prefixLength: length)
  }
}
