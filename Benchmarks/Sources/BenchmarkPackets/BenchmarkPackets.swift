import DataPlane

/// The packets and routes both benchmark executables work on: 84-byte IPv4 packets (a 64-byte
/// ping) with valid header checksums, destinations spread over 200 /24 leases of 10.1.0.0/16.
public enum BenchmarkPackets {
  public static let packetLength = 84

  /// `count` packets in one buffer, packet i at `i * packetLength`; the caller deallocates.
  public static func make(count: Int) -> UnsafeMutableRawPointer {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: count * packetLength, alignment: 8)
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: count * packetLength)
    for i in 0..<count {
      let p = buffer + i * packetLength
      p.storeBytes(of: 0x45, toByteOffset: 0, as: UInt8.self)
      p.storeBytes(of: UInt16(packetLength).bigEndian, toByteOffset: 2, as: UInt16.self)
      p.storeBytes(of: 64, toByteOffset: 8, as: UInt8.self)
      p.storeBytes(of: 17, toByteOffset: 9, as: UInt8.self)
      p.storeBytes(of: UInt32(0x0a01_0102).bigEndian, toByteOffset: 12, as: UInt32.self)
      let destination = 0x0a01_0000 | UInt32((i % 200) + 1) << 8 | 2
      p.storeBytes(of: destination.bigEndian, toByteOffset: 16, as: UInt32.self)
      IPv4Packet.setHeaderChecksum(p)
    }
    return buffer
  }

  /// `length` bytes of varied content (a payload to checksum); the caller deallocates.
  public static func payload(length: Int) -> UnsafeMutableRawPointer {
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 8)
    for i in 0..<length {
      bytes.storeBytes(
        of: UInt8(truncatingIfNeeded: i &* 151 &+ 7), toByteOffset: i, as: UInt8.self)
    }
    return bytes
  }

  /// 200 leases of a /16, as the control plane hands them to the forwarder.
  public static let routes = (1...200).map {
    Route(
      network: 0x0a01_0000 | UInt32($0) << 8, prefixLength: 24,
      nextHop: 0xc0a8_4d00 | UInt32($0), port: 8285)
  }
}
