/// A received handshake response (type 2), read in place; the fields are slices of the
/// datagram's bytes.
public struct HandshakeResponseMessage {
  public let bytes: UnsafeRawBufferPointer

  /// nil unless the datagram classifies as a response.
  @inline(__always)
  public init?(_ datagram: UnsafeRawBufferPointer) {
    guard MessageType.classify(datagram) == .message(.handshakeResponse) else { return nil }
    bytes = datagram
  }

  public var senderIndex: UInt32 {
    bytes.readUInt32LE(at: ResponseLayout.senderIndex.lowerBound)
  }
  public var receiverIndex: UInt32 {
    bytes.readUInt32LE(at: ResponseLayout.receiverIndex.lowerBound)
  }
  public var unencryptedEphemeral: UnsafeRawBufferPointer {
    bytes.bytes(in: ResponseLayout.unencryptedEphemeral)
  }
  public var encryptedNothing: UnsafeRawBufferPointer {
    bytes.bytes(in: ResponseLayout.encryptedNothing)
  }
  public var mac1: UnsafeRawBufferPointer { bytes.bytes(in: ResponseLayout.mac1) }
  public var mac2: UnsafeRawBufferPointer { bytes.bytes(in: ResponseLayout.mac2) }
  public var coveredByMAC1: UnsafeRawBufferPointer { bytes.bytes(in: ResponseLayout.coveredByMAC1) }
  public var coveredByMAC2: UnsafeRawBufferPointer { bytes.bytes(in: ResponseLayout.coveredByMAC2) }
}

/// A response being written into a caller's buffer of exactly `ResponseLayout.size` bytes.
public struct HandshakeResponseWriter {
  public let bytes: UnsafeMutableRawBufferPointer

  /// Writes the header (type 2, reserved zeros) and both indices; nil when the buffer is not
  /// exactly 92 bytes.
  @inline(__always)
  public init?(
    into buffer: UnsafeMutableRawBufferPointer, senderIndex: UInt32, receiverIndex: UInt32
  ) {
    guard buffer.count == ResponseLayout.size else { return nil }
    bytes = buffer
    buffer.writeMessageHeader(.handshakeResponse)
    buffer.writeLE(senderIndex, at: ResponseLayout.senderIndex.lowerBound)
    buffer.writeLE(receiverIndex, at: ResponseLayout.receiverIndex.lowerBound)
  }

  public var unencryptedEphemeral: UnsafeMutableRawBufferPointer {
    bytes.bytes(in: ResponseLayout.unencryptedEphemeral)
  }
  public var encryptedNothing: UnsafeMutableRawBufferPointer {
    bytes.bytes(in: ResponseLayout.encryptedNothing)
  }
  public var mac1: UnsafeMutableRawBufferPointer { bytes.bytes(in: ResponseLayout.mac1) }
  public var mac2: UnsafeMutableRawBufferPointer { bytes.bytes(in: ResponseLayout.mac2) }
}
