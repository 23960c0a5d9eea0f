import DataPlane
import Testing

/// `packet` changed by `change`, then given valid IPv4 header and UDP checksums again (so that
/// only the change itself can make the coalescer refuse it).
private func patched(_ packet: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
  var p = packet
  change(&p)
  let ipHeader = Int(p[0] & 0x0f) * 4
  put16(&p, 10, 0)
  put16(&p, 10, referenceChecksum(p[0..<ipHeader]))
  if p.count >= ipHeader + 8 { put16(&p, ipHeader + 6, udpChecksum(p, l4Start: ipHeader)) }
  return p
}

private func segment(_ packet: [UInt8]) -> UDPCoalescer.Segment? {
  packet.withUnsafeBytes { UDPCoalescer.segment($0.baseAddress!, length: $0.count) }
}

/// A datagram whose computed checksum is 0, sent as 0xffff: its last two payload bytes are
/// chosen to make the sum over pseudo-header and datagram 0xffff.
private func checksumZeroDatagram(identification: UInt16 = 0x1234) -> [UInt8] {
  var fields = UDPDatagramFields(identification: identification, payload: Array(0..<100))
  fields.payload[98] = 0
  fields.payload[99] = 0
  var p = fields.bytes
  put16(&p, 26, 0)
  let length = p.count - 20
  let pseudo = Array(p[12..<20]) + [0, 17, UInt8(length >> 8), UInt8(length & 0xff)]
  let sum = ~referenceChecksum(pseudo + p[20...])  // without the two bytes
  fields.payload[98...99] = [UInt8((0xffff - sum) >> 8), UInt8((0xffff - sum) & 0xff)]
  return fields.bytes
}

/// Three datagrams of 100 bytes, IP ID 0x1234….
private let run3 = datagramRun([100, 100, 100])

/// Splits what the coalescer wrote back into packets: super-packets with `SuperPacket.split`,
/// plain ones as they are (their virtio header must be the zero one).
private func writtenPackets(_ outputs: [CoalescedPacket]) throws -> [[UInt8]] {
  var back: [[UInt8]] = []
  for output in outputs {
    if output.segments > 1 {
      back += try #require(splitBack(output))
    } else {
      #expect(output.virtio == VirtioNetHeader())
      back.append(output.packet)
    }
  }
  return back
}

@Suite struct UDPCoalescerTests {
  struct MergeCase: Sendable, CustomStringConvertible {
    var name: String
    var sizes: [Int]
    var identification: UInt16 = 0x1234
    var description: String { name }
  }

  @Test(arguments: [
    MergeCase(name: "2 equal", sizes: [1400, 1400]),
    MergeCase(name: "odd 1-byte tail", sizes: [1400, 1400, 1]),
    MergeCase(name: "IP ID wraps", sizes: [1000, 1000, 1000, 999], identification: 0xfffe),
    MergeCase(name: "64 datagrams", sizes: Array(repeating: 100, count: 64)),
    MergeCase(
      name: "exactly 65,535 bytes", sizes: Array(repeating: 13000, count: 5) + [507]),
    MergeCase(name: "odd size", sizes: [333, 333, 333]),
  ])
  func mergesRunIntoSuperPacket(_ c: MergeCase) throws {
    let originals = datagramRun(c.sizes, first: UDPDatagramFields(identification: c.identification))
    let outputs = coalesceUDP(originals)
    try #require(outputs.count == 1)
    let merged = outputs[0]
    let total = 28 + c.sizes.reduce(0, +)
    #expect(merged.segments == c.sizes.count)
    #expect(
      merged.virtio
        == VirtioNetHeader(
          flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoUDP, headerLength: 28,
          gsoSize: UInt16(c.sizes[0]), checksumStart: 20, checksumOffset: 6))
    let p = merged.packet
    #expect(p.count == total)
    #expect(Int(get16(p, 2)) == total, "IPv4 total length")
    #expect(referenceChecksum(p[0..<20]) == 0, "IPv4 header checksum")
    #expect(Int(get16(p, 24)) == total - 20, "UDP length")
    #expect(get16(p, 26) == udpPseudoHeaderSum(p), "UDP checksum field: pseudo-header sum")
    #expect(Array(p[4..<6]) == Array(originals[0][4..<6]), "IP ID of the first")
    #expect(Array(p[20..<24]) == Array(originals[0][20..<24]), "ports")
    #expect(Array(p[28...]) == originals.flatMap { $0[28...] })

    // What the kernel does with it: complete the checksum, or segment it again.
    var completed = p
    let done = completed.withUnsafeMutableBytes {
      SuperPacket.completeChecksum(merged.virtio, packet: $0.baseAddress!, length: $0.count)
    }
    #expect(done)
    #expect(get16(completed, 26) == udpChecksum(completed), "completed UDP checksum")
    let split = try #require(splitBack(merged))
    #expect(split.count == originals.count)
    for (i, (back, original)) in zip(split, originals).enumerated() {
      #expect(back == original, "datagram \(i) byte for byte after split")
    }
  }

  /// Datagrams of random sizes and counts (equal sizes, a shorter last one or not): whatever
  /// merges splits back into exactly the datagrams it came from, and a run merges greedily.
  @Test func randomRunsRoundTrip() throws {
    var random = SplitMix64(state: 6)
    for _ in 0..<200 {
      let size = Int.random(in: 1...1472, using: &random)
      let count = Int.random(in: 1...70, using: &random)
      var sizes = Array(repeating: size, count: count)
      if Bool.random(using: &random) { sizes[count - 1] = Int.random(in: 1...size, using: &random) }
      let first = UDPDatagramFields(
        identification: UInt16.random(in: 0...0xffff, using: &random),
        sourcePort: UInt16.random(in: 1...0xffff, using: &random))
      let originals = datagramRun(sizes, first: first)
      let outputs = coalesceUDP(originals)
      #expect(try writtenPackets(outputs) == originals, "sizes \(sizes)")
      #expect(outputs.map(\.segments) == greedyGroups(sizes), "sizes \(sizes)")
    }
  }

  /// Up to 64 datagrams and 65,535 bytes per super-packet.
  private func greedyGroups(_ sizes: [Int]) -> [Int] {
    var groups: [Int] = []
    var i = 0
    while i < sizes.count {
      var n = 1
      var bytes = 28 + sizes[i]
      while i + n < sizes.count && n < 64 && bytes + sizes[i + n] <= 65535 {
        bytes += sizes[i + n]
        n += 1
      }
      groups.append(n)
      i += n
    }
    return groups
  }

  @Test func computedZeroChecksumSentAsFFFFRoundTrips() throws {
    let special = checksumZeroDatagram(identification: 0x1235)
    #expect(get16(special, 26) == 0xffff)
    var originals = datagramRun([100, 100, 100])
    originals[1] = special
    let outputs = coalesceUDP(originals)
    #expect(outputs.map(\.segments) == [3])
    #expect(try writtenPackets(outputs) == originals)
  }

  @Test(
    arguments: [
      ("a shorter datagram ends the run", datagramRun([100, 100, 50, 100]), [3, 1]),
      ("a longer datagram after a shorter one", datagramRun([50, 100]), [1, 1]),
      ("a longer second datagram", datagramRun([100, 101]), [1, 1]),
      (
        "65 datagrams: the 64-datagram limit", datagramRun(Array(repeating: 100, count: 65)),
        [64, 1]
      ),
      (
        "6 × 13,000: the 65,535-byte limit", datagramRun(Array(repeating: 13000, count: 6)), [5, 1]
      ),
      (
        "a non-candidate between",
        { () -> [[UInt8]] in
          var run = datagramRun([100, 100, 100, 100, 100])
          put16(&run[2], 26, 0)  // no checksum
          return run
        }(), [2, 0, 2]
      ),
      (
        "a TCP segment between",
        { () -> [[UInt8]] in
          var run = datagramRun([100, 100, 100, 100])
          run.insert(TCPSegmentFields(identification: 0x1236).bytes, at: 2)
          return run
        }(), [2, 0, 2]
      ),
    ] as [(String, [[UInt8]], [Int])])
  func endsRun(_ name: String, packets: [[UInt8]], expected: [Int]) throws {
    let outputs = coalesceUDP(packets)
    #expect(outputs.map(\.segments) == expected)
    // Whatever was merged splits back into exactly the packets it came from, in order.
    #expect(try writtenPackets(outputs) == packets)
  }

  /// Changes to the second datagram of a run that must keep it out of the first's
  /// super-packet.
  @Test(
    arguments: [
      ("IP ID skips one", patched(run3[1]) { p in put16(&p, 4, 0x1236) }),
      ("IP ID repeated", patched(run3[1]) { p in put16(&p, 4, 0x1234) }),
      ("IP ID one back", patched(run3[1]) { p in put16(&p, 4, 0x1233) }),
      ("other TTL", patched(run3[1]) { p in p[8] = 63 }),
      ("other ToS", patched(run3[1]) { p in p[1] = 0x02 }),
      ("DF cleared", patched(run3[1]) { p in p[6] = 0 }),
      ("reserved flag set", patched(run3[1]) { p in p[6] |= 0x80 }),
      ("other source address", patched(run3[1]) { p in p[15] ^= 1 }),
      ("other destination address", patched(run3[1]) { p in p[19] ^= 1 }),
      ("other source port", patched(run3[1]) { p in p[21] ^= 1 }),
      ("other destination port", patched(run3[1]) { p in p[23] ^= 1 }),
    ] as [(String, [UInt8])])
  func refusesOtherDatagram(_ name: String, other: [UInt8]) throws {
    var first = run3[0]
    let firstSegment = try #require(segment(first))
    let otherSegment = try #require(segment(other), "still a candidate on its own")
    let secondSegment = try #require(segment(run3[1]))
    var coalescer = UDPCoalescer()
    var virtio = [UInt8](repeating: 0xaa, count: VirtioNetHeader.size)
    let count = first.withUnsafeMutableBytes { head in
      coalescer.start(head.baseAddress!, firstSegment)
      let refused = other.withUnsafeBytes { !coalescer.append($0.baseAddress!, otherSegment) }
      #expect(refused)
      // A refusal leaves the super-packet as it was: the right second datagram still fits.
      let appended = run3[1].withUnsafeBytes { coalescer.append($0.baseAddress!, secondSegment) }
      #expect(appended)
      return virtio.withUnsafeMutableBytes { coalescer.finish(virtioHeader: $0.baseAddress!) }
    }
    #expect(count == 2)
    #expect(coalesceUDP([run3[0], other]).map(\.segments) == [1, 1])
  }

  @Test func candidateBaseline() throws {
    let s = try #require(segment(UDPDatagramFields().bytes))
    #expect(s.payloadLength == 100)
    #expect(s.identification == 0x1234)
    #expect(segment(UDPDatagramFields(payload: [7]).bytes)?.payloadLength == 1)
    #expect(segment(checksumZeroDatagram()) != nil, "a computed 0 sent as 0xffff")
  }

  @Test(
    arguments: [
      ("IPv4 options", UDPDatagramFields(ihl: 6).bytes),
      ("more fragments", UDPDatagramFields(flagsAndFragment: 0x2000).bytes),
      ("fragment offset", UDPDatagramFields(flagsAndFragment: 0x4001).bytes),
      ("empty payload", UDPDatagramFields(payload: []).bytes),
      (
        "no checksum (0)",
        { () -> [UInt8] in
          var p = UDPDatagramFields().bytes
          put16(&p, 26, 0)
          return p
        }()
      ),
      (
        "0 for a computed 0 (verifies, but split writes 0xffff)",
        { () -> [UInt8] in
          var p = checksumZeroDatagram()
          put16(&p, 26, 0)
          return p
        }()
      ),
      (
        "bad UDP checksum",
        { () -> [UInt8] in
          var p = UDPDatagramFields().bytes
          p[27] ^= 1
          return p
        }()
      ),
      (
        "bad IPv4 header checksum",
        { () -> [UInt8] in
          var p = UDPDatagramFields().bytes
          p[11] ^= 1
          return p
        }()
      ),
      ("total length beyond the bytes", patched(UDPDatagramFields().bytes) { put16(&$0, 2, 129) }),
      (
        "total length short of the bytes", patched(UDPDatagramFields().bytes) { put16(&$0, 2, 127) }
      ),
      (
        "UDP length short of the payload",
        patched(UDPDatagramFields().bytes) { put16(&$0, 24, 107) }
      ),
      ("UDP length beyond the payload", patched(UDPDatagramFields().bytes) { put16(&$0, 24, 109) }),
      ("TCP", TCPSegmentFields().bytes),
      ("protocol 17 with a TCP header", patched(TCPSegmentFields().bytes) { $0[9] = 17 }),
      ("not IPv4", patched(UDPDatagramFields().bytes) { $0[0] = 0x65 }),
      ("27 bytes", Array(UDPDatagramFields().bytes.prefix(27))),
    ] as [(String, [UInt8])])
  func notCandidate(_ name: String, packet: [UInt8]) {
    #expect(segment(packet) == nil)
  }

  @Test func singleDatagramIsPlain() throws {
    let original = UDPDatagramFields(tos: 0x10).bytes
    let outputs = coalesceUDP([original])
    try #require(outputs.count == 1)
    #expect(outputs[0].segments == 1)
    #expect(outputs[0].virtio == VirtioNetHeader())  // written: coalesceUDP pre-fills 0xaa
    #expect(outputs[0].packet == original)
  }

  @Test func finishWithoutStartDoesNothing() {
    var coalescer = UDPCoalescer()
    var virtio = [UInt8](repeating: 0xaa, count: VirtioNetHeader.size)
    let count = virtio.withUnsafeMutableBytes { coalescer.finish(virtioHeader: $0.baseAddress!) }
    #expect(count == 0)
    #expect(virtio == [UInt8](repeating: 0xaa, count: VirtioNetHeader.size))
    let appended = UDPDatagramFields().bytes.withUnsafeBytes { p in
      coalescer.append(p.baseAddress!, segment(Array(p))!)
    }
    #expect(!appended)
  }

  /// The TCP coalescer leaves UDP alone and the other way round.
  @Test func protocolsDoNotMix() {
    let udp = UDPDatagramFields().bytes
    let tcp = TCPSegmentFields().bytes
    #expect(udp.withUnsafeBytes { TCPCoalescer.segment($0.baseAddress!, length: $0.count) } == nil)
    #expect(segment(tcp) == nil)
    #expect(coalesceUDP(segmentRun([100, 100])).map(\.segments) == [0, 0])
    #expect(coalesce(datagramRun([100, 100])).map(\.segments) == [0, 0])
  }
}
