/// A received transport message (type 4), read in place: the receiver index that picks the
/// session, the counter that is the AEAD nonce, and the sealed payload (ciphertext and tag).
public struct TransportMessage {
  public let bytes: UnsafeRawBufferPointer

  /// nil unless the datagram classifies as transport data.
  @inline(__always)
  public init?(_ datagram: UnsafeRawBufferPointer) {
    guard MessageType.classify(datagram) == .message(.transportData) else { return nil }
    bytes = datagram
  }

  public var receiverIndex: UInt32 {
    bytes.readUInt32LE(at: TransportLayout.receiverIndex.lowerBound)
  }
  public var counter: UInt64 { bytes.readUInt64LE(at: TransportLayout.counter.lowerBound) }
  /// Where the sealed payload lies in the datagram: from byte 16 to the end, at least the
  /// 16-byte tag.
  public var payloadRange: Range<Int> { TransportLayout.payloadStart..<bytes.count }
  public var sealedPayload: UnsafeRawBufferPointer { bytes.bytes(in: payloadRange) }
  /// The length of the plaintext (padding included) once opened.
  public var plaintextLength: Int { bytes.count - TransportLayout.minimumSize }
  /// A keepalive is a transport message whose plaintext is empty.
  public var isKeepalive: Bool { bytes.count == TransportLayout.minimumSize }

  /// Writes the 16-byte header of a transport message (type 4, reserved zeros, receiver
  /// index and counter, both little-endian) at the start of `buffer`, before the sealed
  /// payload. Returns false, writing nothing, when the buffer is shorter than the header.
  @inline(__always)
  @discardableResult
  public static func writeHeader(
    into buffer: UnsafeMutableRawBufferPointer, receiverIndex: UInt32, counter: UInt64
  ) -> Bool {
    guard buffer.count >= TransportLayout.headerSize else { return false }
    buffer.writeMessageHeader(.transportData)
    buffer.writeLE(receiverIndex, at: TransportLayout.receiverIndex.lowerBound)
    buffer.writeLE(counter, at: TransportLayout.counter.lowerBound)
    return true
  }
}
