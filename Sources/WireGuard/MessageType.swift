/// The four WireGuard message types on the wire (the first byte of every datagram, followed
/// by three reserved zero bytes), with the fixed sizes the protocol gives them.
public enum MessageType: UInt8, Sendable, CaseIterable {
  case handshakeInitiation = 1
  case handshakeResponse = 2
  case cookieReply = 3
  case transportData = 4

  /// The exact datagram size for the three handshake messages; the minimum for transport
  /// data (16-byte header and a 16-byte tag around an empty payload: a keepalive).
  public var size: Int {
    switch self {
    case .handshakeInitiation: 148
    case .handshakeResponse: 92
    case .cookieReply: 64
    case .transportData: 32
    }
  }
}
