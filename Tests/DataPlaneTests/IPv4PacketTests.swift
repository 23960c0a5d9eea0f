import CChecksum
import DataPlane
import Testing

@Suite struct IPv4PacketTests {
  @Test(arguments: [
    ([UInt8](), PacketVerdict.short),
    ([UInt8](repeating: 0x45, count: 19), .short),
    (IPv4Fields().bytes, .forward),
    ([0x60] + [UInt8](repeating: 0, count: 39), .notIPv4),
    ([0x44] + [UInt8](repeating: 0, count: 39), .badHeader),
    (Array(IPv4Fields(ihl: 15, payload: []).bytes.prefix(40)), .badHeader),
    (IPv4Fields(ihl: 15, payload: []).bytes, .forward),
  ])
  func headerCheck(packet: [UInt8], expected: PacketVerdict) {
    let verdict = packet.withUnsafeBytes {
      IPv4Packet.check($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, length: $0.count)
    }
    #expect(verdict == expected)
  }

  @Test func checksumMatchesReference() {
    var rng = SplitMix64(state: 7)
    for length in 0..<200 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let ours = bytes.withUnsafeBytes {
        Checksum.compute($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, length: $0.count)
      }
      #expect(ours == referenceChecksum(bytes), "length \(length)")
    }
  }

  /// The 8-byte-word sum equals the 4-byte big-endian one and the byte-wise reference for
  /// every length, start alignment and initial value (including all-0xff data, where the
  /// end-around carries pile up).
  @Test func wideSumMatchesWordSum() {
    var rng = SplitMix64(state: 11)
    var checked = 0
    for length in 0..<600 {
      for fill in [nil, UInt8(0xff)] {
        let bytes = (0..<(length + 7)).map { _ in fill ?? UInt8.random(in: 0...255, using: &rng) }
        let initial = UInt32.random(in: 0...0x3_ffff, using: &rng)
        let start = Int.random(in: 0...7, using: &rng)
        let (wide, words, reference) = bytes.withUnsafeBytes { raw in
          let base = raw.baseAddress! + start
          return (
            Checksum.sum(base, length: length, initial: initial),
            Checksum.sumByWords32(base, length: length, initial: initial),
            ~referenceChecksum(bytes[start..<start + length])
          )
        }
        #expect(wide == words, "length \(length) start \(start)")
        if initial == 0 { #expect(wide == reference, "length \(length)") }
        checked += 1
      }
    }
    #expect(checked == 1200)
  }

  /// Long inputs go through the vector loop: sums over whole super-packets (up to 64 KiB, and
  /// all-0xff data where every lane is at its largest) equal the 4-byte reference, and the
  /// vector loop (AVX2 where the CPU has it) equals the portable one block for block.
  @Test func longSumsMatchWordSum() {
    var rng = SplitMix64(state: 13)
    var checked = 0
    for length in [128, 191, 1_420, 1_472, 9_000, 65_535, 65_536] {
      for fill in [nil, UInt8(0xff)] {
        let bytes = (0..<(length + 1)).map { _ in fill ?? UInt8.random(in: 0...255, using: &rng) }
        bytes.withUnsafeBytes { raw in
          for start in 0...1 {
            let base = raw.baseAddress! + start
            #expect(
              Checksum.sum(base, length: length) == Checksum.sumByWords32(base, length: length),
              "length \(length) start \(start)")
            let blocks = length & ~63
            #expect(
              flannel_sum32_blocks(base, blocks) == flannel_sum32_blocks_portable(base, blocks))
            checked += 1
          }
        }
      }
    }
    #expect(checked == 28)
  }

  /// The incremental update must equal a full recomputation for every header, including the
  /// checksum values near 0x0000/0xffff where naive RFC 1141 updates go wrong.
  @Test func ttlDecrementEqualsRecomputation() {
    var rng = SplitMix64(state: 42)
    var checked = 0
    for _ in 0..<20_000 {
      var fields = IPv4Fields()
      fields.ihl = UInt8.random(in: 5...15, using: &rng)
      fields.tos = UInt8.random(in: 0...255, using: &rng)
      fields.identification = UInt16.random(in: 0...0xffff, using: &rng)
      fields.flagsAndFragment = UInt16.random(in: 0...0xffff, using: &rng)
      fields.ttl = UInt8.random(in: 2...255, using: &rng)
      fields.proto = UInt8.random(in: 0...255, using: &rng)
      fields.source = UInt32.random(in: 0...UInt32.max, using: &rng)
      fields.destination = UInt32.random(in: 0...UInt32.max, using: &rng)
      var packet = fields.bytes
      let verdict = packet.withUnsafeMutableBytes { IPv4Packet.decrementTTL($0.baseAddress!) }
      #expect(verdict == .forward)
      var expected = packet
      expected[8] = fields.ttl - 1
      let headerLength = Int(fields.ihl) * 4
      put16(&expected, 10, 0)
      put16(&expected, 10, referenceChecksum(expected[0..<headerLength]))
      #expect(packet == expected)
      #expect(packet.withUnsafeBytes { IPv4Packet.headerChecksumIsValid($0.baseAddress!) })
      checked += 1
    }
    #expect(checked == 20_000)
  }

  @Test(arguments: [0, 1] as [UInt8])
  func ttlExpiresWithoutTouchingThePacket(ttl: UInt8) {
    var packet = IPv4Fields(ttl: ttl).bytes
    let before = packet
    let verdict = packet.withUnsafeMutableBytes { IPv4Packet.decrementTTL($0.baseAddress!) }
    #expect(verdict == .ttlExpired)
    #expect(packet == before)
  }

  @Test func setHeaderChecksumRecomputes() {
    var packet = IPv4Fields(ihl: 7).bytes
    let good = get16(packet, 10)
    put16(&packet, 10, 0xdead)
    packet.withUnsafeMutableBytes { IPv4Packet.setHeaderChecksum($0.baseAddress!) }
    #expect(get16(packet, 10) == good)
  }
}
