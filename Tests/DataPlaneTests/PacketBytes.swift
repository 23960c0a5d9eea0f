import DataPlane

/// Test helpers: IPv4 packets as byte arrays, built field by field.
struct IPv4Fields {
  var ihl: UInt8 = 5
  var tos: UInt8 = 0
  var identification: UInt16 = 0x1234
  var flagsAndFragment: UInt16 = 0x4000
  var ttl: UInt8 = 64
  var proto: UInt8 = 17
  var source: UInt32 = 0x0a01_0102
  var destination: UInt32 = 0x0a01_0202
  var payload: [UInt8] = Array(0..<16)

  /// Options are filled with NOPs (1); the checksum is computed from scratch.
  var bytes: [UInt8] {
    let headerLength = Int(ihl) * 4
    var b = [UInt8](repeating: 1, count: headerLength)
    let total = headerLength + payload.count
    b[0] = 0x40 | ihl
    b[1] = tos
    put16(&b, 2, UInt16(total))
    put16(&b, 4, identification)
    put16(&b, 6, flagsAndFragment)
    b[8] = ttl
    b[9] = proto
    put16(&b, 10, 0)
    put32(&b, 12, source)
    put32(&b, 16, destination)
    put16(&b, 10, referenceChecksum(b[0..<headerLength]))
    return b + payload
  }
}

func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
  b[at] = UInt8(v >> 8)
  b[at + 1] = UInt8(v & 0xff)
}

func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
  put16(&b, at, UInt16(v >> 16))
  put16(&b, at + 2, UInt16(v & 0xffff))
}

func get16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }

/// A deliberately naive RFC 1071 checksum, independent of the code under test.
func referenceChecksum<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
  let a = Array(bytes)
  var sum: UInt32 = 0
  var i = 0
  while i < a.count {
    let hi = UInt32(a[i]) << 8
    let lo = i + 1 < a.count ? UInt32(a[i + 1]) : 0
    sum += hi | lo
    i += 2
  }
  while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
  return ~UInt16(sum)
}

/// A small deterministic generator so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}
