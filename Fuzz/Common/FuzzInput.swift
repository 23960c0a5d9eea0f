/// The fuzz input as a stream of numbers: every decision of the harness is read from it, so
/// libFuzzer's mutations steer sizes, flags and fields. Past the end it yields zeros (an
/// input is never "too short", it just describes a simpler case).
struct FuzzInput {
  private let bytes: UnsafeBufferPointer<UInt8>
  private(set) var offset = 0

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  var remaining: Int { max(0, bytes.count - offset) }

  mutating func byte() -> UInt8 {
    guard offset < bytes.count else { return 0 }
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func bool() -> Bool { byte() & 1 != 0 }

  mutating func u16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

  mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }

  mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }

  /// Up to `count` raw bytes (fewer at the end of the input).
  mutating func take(_ count: Int) -> UnsafeBufferPointer<UInt8> {
    let n = min(count, remaining)
    defer { offset += n }
    return UnsafeBufferPointer(rebasing: bytes[offset..<offset + n])
  }
}

/// Payload bytes: a fast deterministic stream seeded from the input (SplitMix64).
struct PayloadBytes {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }

  mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
    var i = 0
    while i + 8 <= buffer.count {
      buffer.storeBytes(of: next(), toByteOffset: i, as: UInt64.self)
      i += 8
    }
    var z = next()
    while i < buffer.count {
      buffer[i] = UInt8(truncatingIfNeeded: z)
      z >>= 8
      i += 1
    }
  }
}
