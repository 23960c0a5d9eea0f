/// Why a received datagram is not a WireGuard message. The raw values run from 0 so that a
/// caller can keep one counter per reason in a fixed array.
public enum MessageDropReason: UInt8, Sendable, CaseIterable {
  /// The first byte is not 1–4 (or the datagram is empty).
  case badType = 0
  /// A handshake message that is not its exact size, or a transport message shorter than a
  /// keepalive (32 bytes).
  case badSize = 1
  /// One of the three bytes after the type is not zero.
  case reservedNonzero = 2

  /// The reason as a metrics label value.
  public var label: String {
    switch self {
    case .badType: "bad_type"
    case .badSize: "bad_size"
    case .reservedNonzero: "reserved_nonzero"
    }
  }
}

/// What a received datagram is: one of the four messages, of a size that message may have,
/// or a drop with its reason.
public enum DatagramClass: Sendable, Equatable {
  case message(MessageType)
  case drop(MessageDropReason)
}

extension MessageType {
  /// Classifies a received datagram from its header and length alone (no allocation, no
  /// cryptography: the MACs and tags are checked later by whoever handles the type).
  ///
  /// A transport message may have any length from 32 bytes up: senders pad the plaintext to
  /// a multiple of 16 but never past the tunnel MTU (`TransportPadding`), so near the MTU the
  /// sealed payload is not a multiple of 16. The kernel module and wireguard-go check only
  /// the minimum, and so does this.
  @inline(__always)
  public static func classify(_ datagram: UnsafeRawBufferPointer) -> DatagramClass {
    guard let first = datagram.first, let type = MessageType(rawValue: first) else {
      return .drop(.badType)
    }
    guard datagram.count >= 4 else { return .drop(.badSize) }
    guard datagram[1] | datagram[2] | datagram[3] == 0 else { return .drop(.reservedNonzero) }
    let sizeFits =
      type == .transportData ? datagram.count >= type.size : datagram.count == type.size
    return sizeFits ? .message(type) : .drop(.badSize)
  }
}
