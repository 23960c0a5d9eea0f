// Little-endian loads and stores at a byte offset, unaligned: the wire integers of every
// WireGuard message. Callers check the offset against the buffer's size first (the views
// only exist for buffers of the right size), so these read no byte outside the buffer.

extension UnsafeRawBufferPointer {
  @inline(__always)
  func readUInt32LE(at offset: Int) -> UInt32 {
    UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
  }

  @inline(__always)
  func readUInt64LE(at offset: Int) -> UInt64 {
    UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }

  /// The bytes of `range`, without copying.
  @inline(__always)
  func bytes(in range: Range<Int>) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: self[range])
  }
}

extension UnsafeMutableRawBufferPointer {
  @inline(__always)
  func writeLE(_ value: UInt32, at offset: Int) {
    storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
  }

  @inline(__always)
  func writeLE(_ value: UInt64, at offset: Int) {
    storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
  }

  /// The bytes of `range`, without copying.
  @inline(__always)
  func bytes(in range: Range<Int>) -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(rebasing: self[range])
  }

  /// Writes the type byte and the three reserved zero bytes.
  @inline(__always)
  func writeMessageHeader(_ type: MessageType) {
    writeLE(UInt32(type.rawValue), at: 0)
  }
}
