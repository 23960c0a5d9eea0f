import FlannelCore

/// The attributes of one netlink message (or of one nested attribute), keyed by type. Parsed
/// in Swift from a copy of the message, so values never point into a reused receive buffer.
struct NetlinkAttributes {
  private var payloads: [UInt16: ArraySlice<UInt8>] = [:]

  /// Walks `bytes` as a sequence of 4-byte aligned `struct nlattr` (len, type, payload).
  init(_ bytes: ArraySlice<UInt8>) {
    var offset = bytes.startIndex
    while offset + 4 <= bytes.endIndex {
      let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
      // NLA_F_NESTED and NLA_F_NET_BYTEORDER live in the top two bits of the type.
      let type = (UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8) & 0x3fff
      guard length >= 4, offset + length <= bytes.endIndex else { break }
      payloads[type] = bytes[(offset + 4)..<(offset + length)]
      offset += (length + 3) & ~3
    }
  }

  func has(_ type: UInt16) -> Bool { payloads[type] != nil }

  func bytes(_ type: UInt16) -> ArraySlice<UInt8>? { payloads[type] }

  func u8(_ type: UInt16) -> UInt8? {
    guard let p = payloads[type], p.count >= 1 else { return nil }
    return p[p.startIndex]
  }

  /// Host byte order (netlink's own integers are native-endian; x86 and arm64 are little).
  func u16(_ type: UInt16) -> UInt16? {
    guard let p = payloads[type], p.count >= 2 else { return nil }
    return UInt16(p[p.startIndex]) | UInt16(p[p.startIndex + 1]) << 8
  }

  func u16BigEndian(_ type: UInt16) -> UInt16? {
    guard let p = payloads[type], p.count >= 2 else { return nil }
    return UInt16(p[p.startIndex]) << 8 | UInt16(p[p.startIndex + 1])
  }

  func u32(_ type: UInt16) -> UInt32? {
    guard let p = payloads[type], p.count >= 4 else { return nil }
    return (0..<4).reduce(UInt32(0)) { $0 | UInt32(p[p.startIndex + $1]) << (8 * UInt32($1)) }
  }

  /// A NUL-terminated string attribute.
  func string(_ type: UInt16) -> String? {
    guard let p = payloads[type] else { return nil }
    return String(decoding: p.prefix { $0 != 0 }, as: UTF8.self)
  }

  /// An IPv4 address in network byte order; nil for other lengths (IPv6).
  func ipv4(_ type: UInt16) -> IPv4Address? {
    guard let p = payloads[type], p.count == 4 else { return nil }
    return IPv4Address(p.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
  }

  func mac(_ type: UInt16) -> MACAddress? {
    guard let p = payloads[type], p.count == 6 else { return nil }
    return MACAddress(bytes: Array(p))
  }

  func nested(_ type: UInt16) -> NetlinkAttributes? {
    payloads[type].map(NetlinkAttributes.init)
  }
}
