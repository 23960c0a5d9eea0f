import DataPlane
import Glibc
import Testing

/// A TCP (or UDP) super-packet as the TUN hands it over with TSO/USO: one IPv4 header, one L4
/// header, a long payload; the L4 checksum field holds junk (the split must not trust it).
private func superPacket(
  tcp: Bool = true, payloadLength: Int, sequence: UInt32 = 0xffff_fff0, flags: UInt8 = 0x19,
  tcpOptions: Int = 0, ihl: UInt8 = 5, identification: UInt16 = 0xfffe
) -> [UInt8] {
  let l4Length = tcp ? 20 + tcpOptions : 8
  var l4 = [UInt8](repeating: 0, count: l4Length)
  put16(&l4, 0, 40000)
  put16(&l4, 2, 5201)
  if tcp {
    put32(&l4, 4, sequence)
    put32(&l4, 8, 0x0102_0304)
    l4[12] = UInt8(l4Length / 4) << 4
    l4[13] = flags
    put16(&l4, 14, 0xffff)
    put16(&l4, 16, 0xbeef)
    for i in 20..<l4Length { l4[i] = 1 }  // NOPs
  } else {
    put16(&l4, 4, UInt16(truncatingIfNeeded: 8 + payloadLength))
    put16(&l4, 6, 0xbeef)
  }
  let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
  return IPv4Fields(
    ihl: ihl, identification: identification, proto: tcp ? 6 : 17, payload: l4 + payload
  ).bytes
}

private func header(tcp: Bool = true, gsoSize: UInt16) -> VirtioNetHeader {
  VirtioNetHeader(
    flags: VirtioNetHeader.needsChecksum,
    gsoType: tcp ? VirtioNetHeader.gsoTCPv4 : VirtioNetHeader.gsoUDP,
    headerLength: 9999, gsoSize: gsoSize, checksumStart: 20, checksumOffset: tcp ? 16 : 6)
}

private func split(_ header: VirtioNetHeader, _ packet: [UInt8], capacity: Int = 80000)
  -> Result<(SuperPacket.Segments, [[UInt8]]), SuperPacket.Refusal>
{
  var output = [UInt8](repeating: 0, count: capacity)
  let result = packet.withUnsafeBytes { p in
    output.withUnsafeMutableBytes { o in
      SuperPacket.split(
        header, packet: p.baseAddress!, length: p.count, into: o.baseAddress!, capacity: o.count)
    }
  }
  return result.map { segments in
    var packets: [[UInt8]] = []
    var at = 0
    while at < segments.bytes {
      let total = Int(get16(output, at + 2))
      packets.append(Array(output[at..<at + total]))
      at += total
    }
    return (segments, packets)
  }
}

/// Sum over the pseudo-header and the L4 bytes, checksum field included: 0 when valid.
private func l4ChecksumIsValid(_ p: [UInt8]) -> Bool {
  var pseudo = Array(p[12..<20])
  pseudo += [0, p[9]]
  pseudo += [UInt8((p.count - 20) >> 8), UInt8((p.count - 20) & 0xff)]
  return referenceChecksum(pseudo + p[20...]) == 0
}

@Suite struct SuperPacketTests {
  struct Case: Sendable, CustomStringConvertible {
    var tcp: Bool
    var payload: Int
    var gsoSize: UInt16
    var options: Int
    var description: String { "\(tcp ? "tcp" : "udp") \(payload)/\(gsoSize) opt \(options)" }
  }

  @Test(arguments: [
    Case(tcp: true, payload: 4000, gsoSize: 1000, options: 0),  // even
    Case(tcp: true, payload: 4001, gsoSize: 1000, options: 0),  // 1-byte tail
    Case(tcp: true, payload: 65_400, gsoSize: 1448, options: 12),  // timestamps, 46 segments
    Case(tcp: true, payload: 999, gsoSize: 1000, options: 0),  // a single short segment
    Case(tcp: false, payload: 3001, gsoSize: 1400, options: 0),  // odd UDP tail
    Case(tcp: false, payload: 2800, gsoSize: 1400, options: 0),
  ])
  func splitsIntoValidPackets(_ c: Case) throws {
    let flags: UInt8 = 0x80 | 0x19  // CWR, ACK, PSH, FIN
    let original = superPacket(
      tcp: c.tcp, payloadLength: c.payload, flags: flags, tcpOptions: c.options)
    let (segments, packets) = try split(header(tcp: c.tcp, gsoSize: c.gsoSize), original).get()
    let headerLength = 20 + (c.tcp ? 20 + c.options : 8)
    let expectedCount = (c.payload + Int(c.gsoSize) - 1) / Int(c.gsoSize)
    #expect(segments.count == expectedCount)
    #expect(packets.count == expectedCount)
    #expect(segments.segmentLength == headerLength + min(Int(c.gsoSize), c.payload))
    var joined: [UInt8] = []
    for (i, p) in packets.enumerated() {
      let last = i == packets.count - 1
      #expect(
        p.count == (last ? headerLength + c.payload - i * Int(c.gsoSize) : segments.segmentLength))
      #expect(referenceChecksum(p[0..<20]) == 0, "IPv4 header checksum of \(i)")
      #expect(get16(p, 4) == 0xfffe &+ UInt16(i), "IPv4 ID of \(i)")
      #expect(Array(p[12..<20]) == Array(original[12..<20]))
      #expect(l4ChecksumIsValid(p), "L4 checksum of \(i)")
      if c.tcp {
        let sequence = UInt32(get16(p, 24)) << 16 | UInt32(get16(p, 26))
        #expect(sequence == 0xffff_fff0 &+ UInt32(i * Int(c.gsoSize)), "sequence of \(i)")
        var expectedFlags: UInt8 = last ? 0x19 : 0x10
        if i == 0 { expectedFlags |= 0x80 }
        #expect(p[33] == expectedFlags, "flags of \(i)")
        #expect(Array(p[40..<headerLength]) == Array(original[40..<headerLength]))
      } else {
        #expect(Int(get16(p, 24)) == p.count - 20)
      }
      joined += p[headerLength...]
    }
    #expect(joined == Array(original[headerLength...]))
  }

  @Test(
    arguments: [
      (
        "IPv4 options", superPacket(payloadLength: 3000, ihl: 6), header(gsoSize: 1000),
        .notPlainIPv4
      ),
      (
        "not IPv4", [0x60] + superPacket(payloadLength: 3000).dropFirst(), header(gsoSize: 1000),
        .notPlainIPv4
      ),
      (
        "UDP as TCP", superPacket(tcp: false, payloadLength: 3000), header(gsoSize: 1000),
        .unsupportedType
      ),
      (
        "bad checksum offset", superPacket(payloadLength: 3000),
        VirtioNetHeader(gsoType: 1, gsoSize: 1000, checksumStart: 20, checksumOffset: 6),
        .badChecksumLocation
      ),
      ("gso size 0", superPacket(payloadLength: 3000), header(gsoSize: 0), .badSegmentation),
      ("no payload", superPacket(payloadLength: 0), header(gsoSize: 1000), .badSegmentation),
      (
        "too many segments", superPacket(payloadLength: 3000), header(gsoSize: 10), .badSegmentation
      ),
    ] as [(String, [UInt8], VirtioNetHeader, SuperPacket.Refusal)])
  func refuses(
    _ name: String, packet: [UInt8], header: VirtioNetHeader, expected: SuperPacket.Refusal
  ) {
    #expect(throws: expected) { try split(header, packet).get() }
  }

  /// The gathering split (headers apart, payloads left in place) sends exactly the bytes the
  /// copying split writes: the iovecs, concatenated, equal its output.
  @Test(arguments: [
    Case(tcp: true, payload: 4001, gsoSize: 1000, options: 0),
    Case(tcp: true, payload: 65_400, gsoSize: 1448, options: 12),
    Case(tcp: false, payload: 3001, gsoSize: 1400, options: 0),
  ])
  func gatheringSplitSendsTheSameBytes(_ c: Case) throws {
    let original = superPacket(tcp: c.tcp, payloadLength: c.payload, tcpOptions: c.options)
    let virtio = header(tcp: c.tcp, gsoSize: c.gsoSize)
    let (copied, _) = try split(virtio, original).get()
    var contiguous = [UInt8](repeating: 0, count: copied.bytes)
    var headers = [UInt8](repeating: 0, count: SuperPacket.maxSegments * 80)
    var vectors = [iovec](repeating: iovec(), count: 2 * SuperPacket.maxSegments)
    var gathered: [UInt8] = []
    original.withUnsafeBytes { p in
      contiguous.withUnsafeMutableBytes { o in
        _ = SuperPacket.split(
          virtio, packet: p.baseAddress!, length: p.count, into: o.baseAddress!, capacity: o.count)
      }
      headers.withUnsafeMutableBytes { h in
        vectors.withUnsafeMutableBufferPointer { v in
          let result = SuperPacket.split(
            virtio, packet: p.baseAddress!, length: p.count, into: h.baseAddress!,
            capacity: h.count, gather: v.baseAddress!)
          guard case .success(let segments) = result else { return }
          #expect(segments == copied)
          for i in 0..<(2 * segments.count) {
            gathered += UnsafeRawBufferPointer(start: v[i].iov_base, count: v[i].iov_len)
          }
        }
      }
    }
    #expect(gathered.count == copied.bytes)
    #expect(gathered == contiguous)
  }

  @Test func refusesBadHeaderChecksumAndLength() {
    var packet = superPacket(payloadLength: 3000)
    packet[10] ^= 0xff
    #expect(throws: SuperPacket.Refusal.badIPv4Header) {
      try split(header(gsoSize: 1000), packet).get()
    }
    let truncated = Array(superPacket(payloadLength: 3000).dropLast())
    #expect(throws: SuperPacket.Refusal.badIPv4Header) {
      try split(header(gsoSize: 1000), truncated).get()
    }
    var fragment = superPacket(payloadLength: 3000)
    fragment[6] |= 0x20  // MF
    #expect(throws: SuperPacket.Refusal.notPlainIPv4) {
      try split(header(gsoSize: 1000), fragment).get()
    }
  }

  @Test func refusesWithoutRoom() {
    #expect(throws: SuperPacket.Refusal.badSegmentation) {
      try split(header(gsoSize: 1000), superPacket(payloadLength: 3000), capacity: 3000).get()
    }
  }

  @Test(arguments: [true, false])
  func completesPartialChecksum(tcp: Bool) {
    var packet = superPacket(tcp: tcp, payloadLength: 333)
    // What the kernel leaves: the pseudo-header sum (not complemented) in the field.
    let field = tcp ? 36 : 26
    put16(&packet, field, 0)
    var pseudo = Array(packet[12..<20]) + [0, packet[9]]
    pseudo += [UInt8((packet.count - 20) >> 8), UInt8((packet.count - 20) & 0xff)]
    put16(&packet, field, ~referenceChecksum(pseudo))
    let h = VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum, checksumStart: 20, checksumOffset: tcp ? 16 : 6)
    let done = packet.withUnsafeMutableBytes {
      SuperPacket.completeChecksum(h, packet: $0.baseAddress!, length: $0.count)
    }
    #expect(done)
    #expect(l4ChecksumIsValid(packet))
    let outside = VirtioNetHeader(flags: 1, checksumStart: 20, checksumOffset: UInt16(packet.count))
    let refused = packet.withUnsafeMutableBytes {
      SuperPacket.completeChecksum(outside, packet: $0.baseAddress!, length: $0.count)
    }
    #expect(!refused)
  }

  @Test func virtioHeaderRoundTrips() {
    let h = VirtioNetHeader(
      flags: 1, gsoType: 1, headerLength: 66, gsoSize: 1448, checksumStart: 20, checksumOffset: 16)
    var bytes = [UInt8](repeating: 0xaa, count: VirtioNetHeader.size)
    bytes.withUnsafeMutableBytes { h.store($0.baseAddress!) }
    #expect(bytes == [1, 1, 66, 0, 0xa8, 0x05, 20, 0, 16, 0])
    #expect(bytes.withUnsafeBytes { VirtioNetHeader($0.baseAddress!) } == h)
  }

  @Test(
    arguments: [
      ("tso", TunOffloads([.checksum, .tcpSegmentation])),
      ("csum", .checksum),
      ("none", TunOffloads()),
      ("", TunOffloads()),
      ("all", .all),
      (
        "all",
        [
          .checksum, .tcpSegmentation, .udpSegmentation, .receiveCoalescing, .socketSegmentation,
          .socketReceiveOffload,
        ]
      ),
      ("udp-gso,udp-gro", [.socketSegmentation, .socketReceiveOffload]),
      ("uso, tso", [.checksum, .tcpSegmentation, .udpSegmentation]),
      ("gro", .receiveCoalescing),
      ("tso,gro", [.checksum, .tcpSegmentation, .receiveCoalescing]),
    ] as [(String, TunOffloads)])
  func parsesOffloadList(_ list: String, expected: TunOffloads) {
    #expect(TunOffloads(list: list) == expected)
  }

  @Test func rejectsUnknownOffload() {
    #expect(TunOffloads(list: "tso,lro") == nil)
    #expect(TunOffloads(list: "gso") == nil)
  }
}
