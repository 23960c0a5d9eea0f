/// The last path element of a lease key: "10.1.15.0-24".
public enum SubnetKey {
  public static func format(_ subnet: IPv4Network) -> String {
    "\(subnet.address)-\(subnet.prefixLength)"
  }

  /// Accepts "10.1.15.0-24" or a full key ending in it (".../subnets/10.1.15.0-24"), with an
  /// optional HEAD dual-stack suffix "&fc00:0:0:1::-64" whose IPv6 part is checked for shape
  /// and ignored. Rejects a bad address or a prefix over 32. The prefix may carry leading
  /// zeros ("-024"), as flannel's `\d+` + ParseUint reading allows.
  ///
  /// Host bits are masked ("10.1.15.1-24" reads as 10.1.15.0/24): flannel would keep the
  /// odd address, but every subnet here is a masked network value, and the masked network
  /// is the one that address range actually occupies for overlap checks.
  public static func parse(_ key: String) -> IPv4Network? {
    let name = key.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
    let halves = name.split(separator: "&", omittingEmptySubsequences: false)
    guard halves.count <= 2 else { return nil }
    if halves.count == 2 && !isIPv6Part(halves[1]) { return nil }
    guard let (addressText, length) = splitPrefix(halves[0], maxLength: 32),
      let address = IPv4Address(String(addressText))
    else { return nil }
    return IPv4Network(address: address, prefixLength: length)
  }

  /// "<address>-<decimal prefix ≤ maxLength>" split at the last "-".
  private static func splitPrefix(
    _ text: Substring, maxLength: Int
  ) -> (Substring, Int)? {
    guard let dash = text.lastIndex(of: "-") else { return nil }
    let digits = text[text.index(after: dash)...]
    guard (1...3).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
      let length = Int(digits), length <= maxLength
    else { return nil }
    return (text[..<dash], length)
  }

  /// The shape flannel HEAD's key regex accepts for the IPv6 half: hex digits and colons,
  /// "-", a prefix length.
  private static func isIPv6Part(_ text: Substring) -> Bool {
    guard let (address, _) = splitPrefix(text, maxLength: 128) else { return false }
    return !address.isEmpty && address.allSatisfy { $0 == ":" || ($0.isASCII && $0.isHexDigit) }
  }
}
