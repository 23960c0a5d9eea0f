/// A received cookie reply (type 3), read in place; the fields are slices of the datagram's
/// bytes.
public struct CookieReplyMessage {
  public let bytes: UnsafeRawBufferPointer

  /// nil unless the datagram classifies as a cookie reply.
  @inline(__always)
  public init?(_ datagram: UnsafeRawBufferPointer) {
    guard MessageType.classify(datagram) == .message(.cookieReply) else { return nil }
    bytes = datagram
  }

  public var receiverIndex: UInt32 {
    bytes.readUInt32LE(at: CookieReplyLayout.receiverIndex.lowerBound)
  }
  public var nonce: UnsafeRawBufferPointer { bytes.bytes(in: CookieReplyLayout.nonce) }
  public var encryptedCookie: UnsafeRawBufferPointer {
    bytes.bytes(in: CookieReplyLayout.encryptedCookie)
  }
}

/// A cookie reply being written into a caller's buffer of exactly `CookieReplyLayout.size`
/// bytes.
public struct CookieReplyWriter {
  public let bytes: UnsafeMutableRawBufferPointer

  /// Writes the header (type 3, reserved zeros) and the receiver index; nil when the buffer
  /// is not exactly 64 bytes.
  @inline(__always)
  public init?(into buffer: UnsafeMutableRawBufferPointer, receiverIndex: UInt32) {
    guard buffer.count == CookieReplyLayout.size else { return nil }
    bytes = buffer
    buffer.writeMessageHeader(.cookieReply)
    buffer.writeLE(receiverIndex, at: CookieReplyLayout.receiverIndex.lowerBound)
  }

  public var nonce: UnsafeMutableRawBufferPointer { bytes.bytes(in: CookieReplyLayout.nonce) }
  public var encryptedCookie: UnsafeMutableRawBufferPointer {
    bytes.bytes(in: CookieReplyLayout.encryptedCookie)
  }
}
