import Glibc

/// A packet in a heap buffer of exactly its size, so that AddressSanitizer reports any read
/// or write past its end by the code under test.
final class Packet {
  let bytes: UnsafeMutableRawBufferPointer

  init(count: Int) {
    bytes = .allocate(byteCount: count, alignment: 1)
    bytes.initializeMemory(as: UInt8.self, repeating: 0)
  }

  convenience init(copying source: UnsafeRawBufferPointer) {
    self.init(count: source.count)
    if source.count > 0 { bytes.copyMemory(from: source) }
  }

  deinit { bytes.deallocate() }

  var count: Int { bytes.count }
  var base: UnsafeMutableRawPointer { bytes.baseAddress! }

  func u8(_ at: Int) -> UInt8 { bytes[at] }
  func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
  func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
  func set8(_ at: Int, _ v: UInt8) { bytes[at] = v }
  func set16(_ at: Int, _ v: UInt16) {
    bytes[at] = UInt8(v >> 8)
    bytes[at + 1] = UInt8(truncatingIfNeeded: v)
  }
  func set32(_ at: Int, _ v: UInt32) {
    set16(at, UInt16(v >> 16))
    set16(at + 2, UInt16(truncatingIfNeeded: v))
  }

  func equals(_ other: UnsafeRawBufferPointer) -> Bool {
    count == other.count && (count == 0 || memcmp(base, other.baseAddress!, count) == 0)
  }
}

/// The harness's own RFC 1071 sum, written independently of Sources/DataPlane/Checksum.swift:
/// 16-bit big-endian words, odd byte padded, end-around carry; not complemented.
func onesComplementSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt16 {
  var sum = UInt64(initial)
  var i = 0
  // 8 bytes a step as two 32-bit big-endian halves (few loop compares: the fuzzer's
  // comparison tracing makes every iteration expensive); then 16-bit words.
  while i + 8 <= bytes.count {
    let word = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
    sum += (word >> 32) + (word & 0xffff_ffff)
    i += 8
  }
  while i + 1 < bytes.count {
    sum += UInt64(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
    i += 2
  }
  if i < bytes.count { sum += UInt64(bytes[i]) << 8 }
  return fold(sum)
}

/// End-around carries down to 16 bits.
func fold(_ value: some FixedWidthInteger) -> UInt16 {
  var sum = UInt64(value)
  while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
  return UInt16(sum)
}

extension Packet {
  /// Pseudo-header of an IPv4 packet with a plain 20-byte header: addresses, protocol and
  /// L4 length (unfolded).
  func pseudoHeader(protocol proto: UInt8) -> UInt32 {
    UInt32(u16(12)) + UInt32(u16(14)) + UInt32(u16(16)) + UInt32(u16(18)) + UInt32(proto)
      + UInt32(count - 20)
  }

  /// Writes a valid IPv4 header checksum (header of IHL·4 bytes).
  func fixIPv4Checksum() {
    let ihl = Int(u8(0) & 0x0f) * 4
    guard ihl >= 20, ihl <= count else { return }
    set16(10, 0)
    set16(10, ~onesComplementSum(UnsafeRawBufferPointer(rebasing: bytes[0..<ihl])))
  }

  /// Writes a valid L4 checksum at `field` (offset from byte 20) over bytes 20…, as a
  /// sender computes it (never 0xffff for TCP; for UDP a computed 0 goes out as 0xffff,
  /// since 0 means "no checksum").
  func fixL4Checksum(protocol proto: UInt8, field: Int) {
    guard count >= 20 + field + 2 else { return }
    set16(20 + field, 0)
    let l4 = UnsafeRawBufferPointer(rebasing: bytes[20...])
    let checksum = ~onesComplementSum(l4, initial: pseudoHeader(protocol: proto))
    set16(20 + field, proto == 17 && checksum == 0 ? 0xffff : checksum)
  }

  var ipv4ChecksumIsValid: Bool {
    onesComplementSum(UnsafeRawBufferPointer(rebasing: bytes[0..<20])) == 0xffff
  }

  func l4ChecksumIsValid(protocol proto: UInt8) -> Bool {
    let l4 = UnsafeRawBufferPointer(rebasing: bytes[20...])
    return onesComplementSum(l4, initial: pseudoHeader(protocol: proto)) == 0xffff
  }
}
