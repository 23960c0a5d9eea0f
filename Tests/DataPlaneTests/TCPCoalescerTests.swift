import DataPlane
import Testing

/// `packet` changed by `change`, then given valid IPv4 header and TCP checksums again (so that
/// only the change itself can make the coalescer refuse it).
private func patched(_ packet: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
  var p = packet
  change(&p)
  let ipHeader = Int(p[0] & 0x0f) * 4
  put16(&p, 10, 0)
  put16(&p, 10, referenceChecksum(p[0..<ipHeader]))
  if p.count >= ipHeader + 20 { put16(&p, ipHeader + 16, tcpChecksum(p, l4Start: ipHeader)) }
  return p
}

private func segment(_ packet: [UInt8]) -> TCPCoalescer.Segment? {
  packet.withUnsafeBytes { TCPCoalescer.segment($0.baseAddress!, length: $0.count) }
}

/// Timestamps as Linux sends them: NOP, NOP, kind 8, length 10, TSval, TSecr.
private let timestamps: [UInt8] = [1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78]

/// Three segments of 100 bytes with timestamps: sequence 1000, 1100, 1200; IP ID 0x1234….
private let optionsRun = segmentRun([100, 100, 100], first: TCPSegmentFields(options: timestamps))

@Suite struct TCPCoalescerTests {
  struct MergeCase: Sendable, CustomStringConvertible {
    var name: String
    var sizes: [Int]
    var options: [UInt8] = []
    var sequence: UInt32 = 1000
    var identification: UInt16 = 0x1234
    var pushLast = false
    var description: String { name }
  }

  @Test(arguments: [
    MergeCase(name: "2 equal", sizes: [1000, 1000]),
    MergeCase(name: "odd 1-byte tail", sizes: [1448, 1448, 1]),
    MergeCase(
      name: "10 with timestamps, PSH on the last", sizes: Array(repeating: 1448, count: 10),
      options: timestamps, pushLast: true),
    MergeCase(
      name: "sequence and IP ID wrap", sizes: [1000, 1000, 1000, 1000, 999],
      sequence: 0xffff_fc00, identification: 0xfffe),
    MergeCase(name: "64 segments", sizes: Array(repeating: 100, count: 64)),
    MergeCase(name: "exactly 65,535 bytes", sizes: Array(repeating: 13099, count: 5)),
    MergeCase(
      name: "40 bytes of options", sizes: [500, 500, 499],
      options: [1, 1, 1, 1] + Array(repeating: 0x00, count: 36)),
  ])
  func mergesRunIntoSuperPacket(_ c: MergeCase) throws {
    let first = TCPSegmentFields(
      identification: c.identification, sequence: c.sequence, options: c.options)
    let originals = segmentRun(c.sizes, first: first, pushLast: c.pushLast)
    let outputs = coalesce(originals)
    try #require(outputs.count == 1)
    let merged = outputs[0]
    let headerLength = 40 + c.options.count
    let total = headerLength + c.sizes.reduce(0, +)
    #expect(merged.segments == c.sizes.count)
    #expect(
      merged.virtio
        == VirtioNetHeader(
          flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv4,
          headerLength: UInt16(headerLength), gsoSize: UInt16(c.sizes[0]), checksumStart: 20,
          checksumOffset: 16))
    let p = merged.packet
    #expect(p.count == total)
    #expect(Int(get16(p, 2)) == total, "IPv4 total length")
    #expect(referenceChecksum(p[0..<20]) == 0, "IPv4 header checksum")
    #expect(get16(p, 36) == pseudoHeaderSum(p), "TCP checksum field: pseudo-header sum")
    #expect(p[33] == (c.pushLast ? 0x18 : 0x10), "flags")
    #expect(Array(p[4..<6]) == Array(originals[0][4..<6]), "IP ID of the first")
    #expect(Array(p[24..<28]) == Array(originals[0][24..<28]), "sequence of the first")
    #expect(Array(p[headerLength...]) == originals.flatMap { $0[headerLength...] })

    // What the kernel does with it: complete the checksum, or segment it again.
    var completed = p
    let done = completed.withUnsafeMutableBytes {
      SuperPacket.completeChecksum(merged.virtio, packet: $0.baseAddress!, length: $0.count)
    }
    #expect(done)
    #expect(get16(completed, 36) == tcpChecksum(completed), "completed TCP checksum")
    let split = try #require(splitBack(merged))
    #expect(split.count == originals.count)
    for (i, (back, original)) in zip(split, originals).enumerated() {
      #expect(back == original, "segment \(i) byte for byte after split")
    }
  }

  @Test(
    arguments: [
      (
        "PSH in the middle ends the run (merged with it)",
        { () -> [[UInt8]] in
          var run = segmentRun([100, 100, 100, 100])
          run[1] = patched(run[1]) { $0[33] |= 0x08 }
          return run
        }(), [2, 2]
      ),
      ("a shorter segment ends the run", segmentRun([100, 100, 50, 100]), [3, 1]),
      ("a longer segment after a shorter one", segmentRun([50, 100]), [1, 1]),
      ("a longer second segment", segmentRun([100, 101]), [1, 1]),
      ("65 segments: the 64-segment limit", segmentRun(Array(repeating: 100, count: 65)), [64, 1]),
      ("6 × 13,099: the 65,535-byte limit", segmentRun(Array(repeating: 13099, count: 6)), [5, 1]),
      (
        "a non-candidate between",
        { () -> [[UInt8]] in
          var run = segmentRun([100, 100, 100, 100, 100])
          run[2] = patched(run[2]) { $0[33] = 0x11 }  // FIN
          return run
        }(), [2, 0, 2]
      ),
    ] as [(String, [[UInt8]], [Int])])
  func endsRun(_ name: String, packets: [[UInt8]], expected: [Int]) throws {
    let outputs = coalesce(packets)
    #expect(outputs.map(\.segments) == expected)
    // Whatever was merged splits back into exactly the packets it came from, in order.
    var back: [[UInt8]] = []
    for output in outputs {
      if output.segments > 1 {
        back += try #require(splitBack(output))
      } else {
        #expect(output.virtio == VirtioNetHeader())
        back.append(output.packet)
      }
    }
    #expect(back == packets)
  }

  /// Changes to the second packet of a run that must keep it out of the first's super-packet.
  @Test(
    arguments: [
      ("sequence gap", patched(optionsRun[1]) { p in put32(&p, 24, 1000 + 101) }),
      ("sequence repeated", patched(optionsRun[1]) { p in put32(&p, 24, 1000) }),
      ("IP ID skips one", patched(optionsRun[1]) { p in put16(&p, 4, 0x1236) }),
      ("IP ID repeated", patched(optionsRun[1]) { p in put16(&p, 4, 0x1234) }),
      ("other acknowledgement", patched(optionsRun[1]) { p in put32(&p, 28, 0x0102_0305) }),
      ("other window", patched(optionsRun[1]) { p in put16(&p, 34, 503) }),
      ("other option bytes", patched(optionsRun[1]) { p in p[51] ^= 1 }),
      ("other TTL", patched(optionsRun[1]) { p in p[8] = 63 }),
      ("other ToS", patched(optionsRun[1]) { p in p[1] = 0x02 }),
      ("DF cleared", patched(optionsRun[1]) { p in p[6] = 0 }),
      ("other source address", patched(optionsRun[1]) { p in p[15] ^= 1 }),
      ("other destination address", patched(optionsRun[1]) { p in p[19] ^= 1 }),
      ("other source port", patched(optionsRun[1]) { p in p[21] ^= 1 }),
      ("other destination port", patched(optionsRun[1]) { p in p[23] ^= 1 }),
      ("other urgent pointer", patched(optionsRun[1]) { p in put16(&p, 38, 1) }),
      ("other reserved bits", patched(optionsRun[1]) { p in p[32] |= 0x01 }),
    ] as [(String, [UInt8])])
  func refusesOtherSegment(_ name: String, other: [UInt8]) throws {
    let run = optionsRun
    var first = run[0]
    let firstSegment = try #require(segment(first))
    let otherSegment = try #require(segment(other), "still a candidate on its own")
    let secondSegment = try #require(segment(run[1]))
    var coalescer = TCPCoalescer()
    var virtio = [UInt8](repeating: 0xaa, count: VirtioNetHeader.size)
    let count = first.withUnsafeMutableBytes { head in
      coalescer.start(head.baseAddress!, firstSegment)
      let refused = other.withUnsafeBytes { !coalescer.append($0.baseAddress!, otherSegment) }
      #expect(refused)
      // A refusal leaves the super-packet as it was: the right second segment still fits.
      let appended = run[1].withUnsafeBytes { coalescer.append($0.baseAddress!, secondSegment) }
      #expect(appended)
      return virtio.withUnsafeMutableBytes { coalescer.finish(virtioHeader: $0.baseAddress!) }
    }
    #expect(count == 2)
    #expect(coalesce([run[0], other]).map(\.segments) == [1, 1])
  }

  @Test func candidateBaseline() throws {
    let s = try #require(segment(TCPSegmentFields(options: timestamps).bytes))
    #expect(s.headerLength == 52)
    #expect(s.payloadLength == 100)
    #expect(s.sequence == 1000)
    #expect(s.identification == 0x1234)
    #expect(!s.push)
    #expect(segment(TCPSegmentFields(flags: 0x18).bytes)?.push == true)
  }

  @Test(
    arguments: [
      ("IPv4 options", TCPSegmentFields(ihl: 6).bytes),
      ("more fragments", TCPSegmentFields(flagsAndFragment: 0x2000).bytes),
      ("fragment offset", TCPSegmentFields(flagsAndFragment: 0x4001).bytes),
      ("SYN", TCPSegmentFields(flags: 0x12).bytes),
      ("FIN", TCPSegmentFields(flags: 0x11).bytes),
      ("RST", TCPSegmentFields(flags: 0x14).bytes),
      ("URG", TCPSegmentFields(flags: 0x30, urgent: 1).bytes),
      ("CWR", TCPSegmentFields(flags: 0x90).bytes),
      ("ECE", TCPSegmentFields(flags: 0x50).bytes),
      ("no ACK", TCPSegmentFields(flags: 0x08).bytes),
      ("empty payload", TCPSegmentFields(payload: []).bytes),
      (
        "bad TCP checksum",
        { () -> [UInt8] in
          var p = TCPSegmentFields().bytes
          p[37] ^= 1
          return p
        }()
      ),
      (
        "bad IPv4 header checksum",
        { () -> [UInt8] in
          var p = TCPSegmentFields().bytes
          p[11] ^= 1
          return p
        }()
      ),
      ("total length beyond the bytes", patched(TCPSegmentFields().bytes) { put16(&$0, 2, 141) }),
      ("total length short of the bytes", patched(TCPSegmentFields().bytes) { put16(&$0, 2, 139) }),
      ("UDP", patched(TCPSegmentFields().bytes) { $0[9] = 17 }),
      ("not IPv4", patched(TCPSegmentFields().bytes) { $0[0] = 0x65 }),
      ("TCP data offset 4", patched(TCPSegmentFields().bytes) { $0[32] = 0x40 }),
      (
        "TCP header beyond the packet",
        patched(TCPSegmentFields(payload: [1, 2]).bytes) { $0[32] = 0x60 }
      ),
      ("39 bytes", Array(TCPSegmentFields().bytes.prefix(39))),
    ] as [(String, [UInt8])])
  func notCandidate(_ name: String, packet: [UInt8]) {
    #expect(segment(packet) == nil)
  }

  @Test func singleSegmentIsPlain() throws {
    let original = TCPSegmentFields(flags: 0x18, options: timestamps).bytes
    let outputs = coalesce([original])
    try #require(outputs.count == 1)
    #expect(outputs[0].segments == 1)
    #expect(outputs[0].virtio == VirtioNetHeader())  // written: coalesce pre-fills 0xaa
    #expect(outputs[0].packet == original)
  }

  @Test func finishWithoutStartDoesNothing() {
    var coalescer = TCPCoalescer()
    var virtio = [UInt8](repeating: 0xaa, count: VirtioNetHeader.size)
    let count = virtio.withUnsafeMutableBytes { coalescer.finish(virtioHeader: $0.baseAddress!) }
    #expect(count == 0)
    #expect(virtio == [UInt8](repeating: 0xaa, count: VirtioNetHeader.size))
    let appended = TCPSegmentFields().bytes.withUnsafeBytes { p in
      coalescer.append(p.baseAddress!, segment(Array(p))!)
    }
    #expect(!appended)
  }
}
