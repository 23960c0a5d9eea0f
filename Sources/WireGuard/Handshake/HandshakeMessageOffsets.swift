/// Where each field sits in the three handshake messages (whitepaper §5.4; every integer is
/// little-endian; the first byte is the type, then three zero bytes). The handshake writes
/// and reads its messages in place through these offsets.
enum HandshakeMessageOffsets {
  enum Initiation {
    static let size = 148
    static let sender = 4
    static let ephemeral = 8
    static let encryptedStatic = 40  // 32 + 16 tag
    static let encryptedTimestamp = 88  // 12 + 16 tag
    static let mac1 = 116
    static let mac2 = 132
  }

  enum Response {
    static let size = 92
    static let sender = 4
    static let receiver = 8
    static let ephemeral = 12
    static let encryptedNothing = 44  // 0 + 16 tag
    static let mac1 = 60
    static let mac2 = 76
  }

  enum CookieReply {
    static let size = 64
    static let receiver = 4
    static let nonce = 8  // 24
    static let encryptedCookie = 32  // 16 + 16 tag
  }

  /// The sender index of an initiation or response: where a cookie reply is addressed.
  static let senderIndex = 4
}

extension UnsafeRawBufferPointer {
  func littleEndianUInt32(at offset: Int) -> UInt32 {
    UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16
      | UInt32(self[offset + 3]) << 24
  }

  func bytes(at offset: Int, count: Int) -> [UInt8] {
    Array(self[offset..<(offset + count)])
  }

  /// Whether the first four bytes are `type` and three zero bytes.
  func hasHeader(_ type: MessageType) -> Bool {
    count >= 4 && self[0] == type.rawValue && self[1] == 0 && self[2] == 0 && self[3] == 0
  }
}

extension UnsafeMutableRawBufferPointer {
  func storeLittleEndian(_ value: UInt32, at offset: Int) {
    for index in 0..<4 { self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
  }

  func store(_ bytes: [UInt8], at offset: Int) {
    for (index, byte) in bytes.enumerated() { self[offset + index] = byte }
  }

  /// The type byte and three zero bytes.
  func storeHeader(_ type: MessageType) {
    self[0] = type.rawValue
    self[1] = 0
    self[2] = 0
    self[3] = 0
  }
}
