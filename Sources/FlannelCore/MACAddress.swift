/// A 48-bit Ethernet address (the VXLAN VTEP MAC stored in lease BackendData).
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
  public let bytes: [UInt8]

  /// Parses six two-digit hex octets separated by ":" (or all by "-"), any case:
  /// "82:4b:b6:2f:54:4e", "82-4B-B6-2F-54-4E".
  public init?(_ text: String) {
    let separator: Character = text.contains("-") ? "-" : ":"
    let parts = text.split(separator: separator, omittingEmptySubsequences: false)
    guard parts.count == 6 else { return nil }
    var bytes: [UInt8] = []
    for part in parts {
      guard part.count == 2, part.allSatisfy(\.isHexDigit), part.allSatisfy(\.isASCII),
        let byte = UInt8(part, radix: 16)
      else { return nil }
      bytes.append(byte)
    }
    self.bytes = bytes
  }

  public init?(bytes: [UInt8]) {
    guard bytes.count == 6 else { return nil }
    self.bytes = bytes
  }

  /// Lower-case colon form, as flannel writes VtepMAC.
  public var description: String {
    bytes.map { byte in
      let hex = String(byte, radix: 16)
      return byte < 0x10 ? "0" + hex : hex
    }.joined(separator: ":")
  }

  /// A random unicast, locally administered address (first octet: bit 0 clear, bit 1 set),
  /// the kind the kernel gives a new vxlan device.
  public static func randomLocallyAdministered<R: RandomNumberGenerator>(
    using rng: inout R
  ) -> MACAddress {
    let random = rng.next()
    var bytes = (0..<6).map { UInt8(truncatingIfNeeded: random >> (8 * UInt64($0))) }
    bytes[0] = bytes[0] & 0xfe | 0x02
    return MACAddress(bytes: bytes)!
  }
}
