import FlannelCore

extension NetlinkAttributes {
  /// An IPv6 address in network byte order; nil for other lengths (IPv4).
  func ipv6(_ type: UInt16) -> IPv6Address? {
    guard let p = bytes(type), p.count == 16 else { return nil }
    return IPv6Address(bytes: p)
  }
}

extension NetlinkRequest {
  /// Network byte order, as every IP attribute is.
  func put(_ type: UInt16, ipv6: IPv6Address) { put(type, bytes: ipv6.bytes) }
}
