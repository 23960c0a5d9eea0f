/// A received handshake initiation (type 1), read in place. The fields are slices of the
/// datagram's bytes: valid as long as the buffer the view was made from.
public struct HandshakeInitiationMessage {
  public let bytes: UnsafeRawBufferPointer

  /// nil unless the datagram classifies as an initiation.
  @inline(__always)
  public init?(_ datagram: UnsafeRawBufferPointer) {
    guard MessageType.classify(datagram) == .message(.handshakeInitiation) else { return nil }
    bytes = datagram
  }

  public var senderIndex: UInt32 {
    bytes.readUInt32LE(at: InitiationLayout.senderIndex.lowerBound)
  }
  public var unencryptedEphemeral: UnsafeRawBufferPointer {
    bytes.bytes(in: InitiationLayout.unencryptedEphemeral)
  }
  public var encryptedStatic: UnsafeRawBufferPointer {
    bytes.bytes(in: InitiationLayout.encryptedStatic)
  }
  public var encryptedTimestamp: UnsafeRawBufferPointer {
    bytes.bytes(in: InitiationLayout.encryptedTimestamp)
  }
  public var mac1: UnsafeRawBufferPointer { bytes.bytes(in: InitiationLayout.mac1) }
  public var mac2: UnsafeRawBufferPointer { bytes.bytes(in: InitiationLayout.mac2) }
  public var coveredByMAC1: UnsafeRawBufferPointer {
    bytes.bytes(in: InitiationLayout.coveredByMAC1)
  }
  public var coveredByMAC2: UnsafeRawBufferPointer {
    bytes.bytes(in: InitiationLayout.coveredByMAC2)
  }
}

/// An initiation being written into a caller's buffer of exactly `InitiationLayout.size`
/// bytes: the header and sender index are set here, the handshake seals the other fields in
/// place through the slices, then fills the MACs.
public struct HandshakeInitiationWriter {
  public let bytes: UnsafeMutableRawBufferPointer

  /// Writes the header (type 1, reserved zeros) and the sender index; nil when the buffer is
  /// not exactly 148 bytes.
  @inline(__always)
  public init?(into buffer: UnsafeMutableRawBufferPointer, senderIndex: UInt32) {
    guard buffer.count == InitiationLayout.size else { return nil }
    bytes = buffer
    buffer.writeMessageHeader(.handshakeInitiation)
    buffer.writeLE(senderIndex, at: InitiationLayout.senderIndex.lowerBound)
  }

  public var unencryptedEphemeral: UnsafeMutableRawBufferPointer {
    bytes.bytes(in: InitiationLayout.unencryptedEphemeral)
  }
  public var encryptedStatic: UnsafeMutableRawBufferPointer {
    bytes.bytes(in: InitiationLayout.encryptedStatic)
  }
  public var encryptedTimestamp: UnsafeMutableRawBufferPointer {
    bytes.bytes(in: InitiationLayout.encryptedTimestamp)
  }
  public var mac1: UnsafeMutableRawBufferPointer { bytes.bytes(in: InitiationLayout.mac1) }
  public var mac2: UnsafeMutableRawBufferPointer { bytes.bytes(in: InitiationLayout.mac2) }
}
