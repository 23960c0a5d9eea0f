/// Where a peer's datagrams go and where a received one came from: an IPv4 address and a UDP
/// port. Opaque to the handshake side except as the bytes a cookie is bound to.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
  /// The IPv4 address, host byte order (10.0.0.1 is 0x0a00_0001).
  public var address: UInt32
  public var port: UInt16

  public init(address: UInt32, port: UInt16) {
    self.address = address
    self.port = port
  }

  /// The address (big-endian) then the port (big-endian): what `CookieChecker` binds a
  /// cookie to.
  public var cookieSource: [UInt8] {
    CookieChecker.sourceBytes(
      address: [
        UInt8(truncatingIfNeeded: address >> 24), UInt8(truncatingIfNeeded: address >> 16),
        UInt8(truncatingIfNeeded: address >> 8), UInt8(truncatingIfNeeded: address),
      ], port: port)
  }

  public var description: String {
    "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff):\(port)"
  }
}
