import Glibc
import Testing

@testable import DataPlane

/// TSO6 and USO super-packets of IPv6 cut into valid packets: per segment the payload length,
/// TCP sequence and flags, UDP length, and a checksum over the IPv6 pseudo-header.
@Suite struct IPv6SplitTests {
  /// An IPv6 TCP super-packet (20-byte TCP header, ACK|PSH|FIN, sequence 1000) as the TUN
  /// hands it over: the checksum field holds anything (the split computes it).
  static func tcpSuperPacket(payload: Int) -> [UInt8] {
    var tcp = [UInt8](repeating: 0, count: 20)
    put16(&tcp, 0, 40000)
    put16(&tcp, 2, 5001)
    put32(&tcp, 4, 1000)
    tcp[12] = 0x50
    tcp[13] = 0x19
    put16(&tcp, 14, 500)
    let body = (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    return IPv6Fields(nextHeader: 6, payload: tcp + body).bytes
  }

  static func udpSuperPacket(payload: Int) -> [UInt8] {
    var udp = [UInt8](repeating: 0, count: 8)
    put16(&udp, 0, 40000)
    put16(&udp, 2, 5001)
    let body = (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    return IPv6Fields(nextHeader: 17, payload: udp + body).bytes
  }

  static func tso(gsoSize: UInt16) -> VirtioNetHeader {
    VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv6, headerLength: 60,
      gsoSize: gsoSize, checksumStart: 40, checksumOffset: 16)
  }

  static func uso(gsoSize: UInt16) -> VirtioNetHeader {
    VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoUDP, headerLength: 48,
      gsoSize: gsoSize, checksumStart: 40, checksumOffset: 6)
  }

  /// The segments `split` writes, one array each.
  static func split(_ header: VirtioNetHeader, _ packet: [UInt8]) throws -> [[UInt8]] {
    var output = [UInt8](repeating: 0, count: 80_000)
    let result = packet.withUnsafeBytes { input in
      output.withUnsafeMutableBytes {
        SuperPacket.split(
          header, packet: input.baseAddress!, length: packet.count, into: $0.baseAddress!,
          capacity: $0.count)
      }
    }
    let segments = try result.get()
    var pieces: [[UInt8]] = []
    var at = 0
    for _ in 0..<segments.count {
      let total = 40 + Int(get16(output, at + 4))
      pieces.append(Array(output[at..<at + total]))
      at += total
    }
    #expect(at == segments.bytes)
    return pieces
  }

  @Test func tcpSegmentsAreValidIPv6Packets() throws {
    let packet = Self.tcpSuperPacket(payload: 2500)
    let pieces = try Self.split(Self.tso(gsoSize: 1000), packet)
    #expect(pieces.map(\.count) == [1060, 1060, 560])
    var payload: [UInt8] = []
    for (i, piece) in pieces.enumerated() {
      #expect(Array(piece[0..<4]) == Array(packet[0..<4]))
      #expect(Array(piece[6..<40]) == Array(packet[6..<40]), "next header, hop limit, addresses")
      let sequence = UInt32(get16(piece, 44)) << 16 | UInt32(get16(piece, 46))
      #expect(sequence == 1000 + UInt32(i * 1000))
      #expect(piece[53] == (i == 2 ? 0x19 : 0x10), "FIN and PSH on the last only")
      #expect(referenceIPv6Checksum(piece, upperLayerAt: 40, protocol: 6) == 0)
      payload += piece[60...]
    }
    #expect(payload == Array(packet[60...]))
  }

  @Test func udpSegmentsAreValidIPv6Datagrams() throws {
    let packet = Self.udpSuperPacket(payload: 2000)
    let pieces = try Self.split(Self.uso(gsoSize: 800), packet)
    #expect(pieces.map(\.count) == [848, 848, 448])
    var payload: [UInt8] = []
    for piece in pieces {
      #expect(Int(get16(piece, 44)) == piece.count - 40, "UDP length")
      #expect(referenceIPv6Checksum(piece, upperLayerAt: 40, protocol: 17) == 0)
      #expect(get16(piece, 46) != 0, "IPv6 UDP checksum is never 0")
      payload += piece[48...]
    }
    #expect(payload == Array(packet[48...]))
  }

  @Test func refusesWhatItCannotCut() {
    func refusal(_ header: VirtioNetHeader, _ packet: [UInt8]) -> SuperPacket.Refusal? {
      let result = packet.withUnsafeBytes { input in
        return withUnsafeTemporaryAllocation(byteCount: 80_000, alignment: 8) {
          SuperPacket.split(
            header, packet: input.baseAddress!, length: packet.count, into: $0.baseAddress!,
            capacity: $0.count)
        }
      }
      if case .failure(let refusal) = result { return refusal }
      return nil
    }
    let tcp = Self.tcpSuperPacket(payload: 2500)
    var withOptions = tcp
    withOptions[6] = 60  // a destination-options header first
    #expect(refusal(Self.tso(gsoSize: 1000), withOptions) == .notPlainIPv4)
    #expect(refusal(Self.tso(gsoSize: 1000), Array(tcp.dropLast())) == .badIPv4Header)
    var v4Type = Self.tso(gsoSize: 1000)
    v4Type.gsoType = VirtioNetHeader.gsoTCPv4
    #expect(refusal(v4Type, tcp) == .unsupportedType)
    var start20 = Self.tso(gsoSize: 1000)
    start20.checksumStart = 20
    #expect(refusal(start20, tcp) == .badChecksumLocation)
    #expect(refusal(Self.uso(gsoSize: 800), tcp) == .unsupportedType)
  }

  /// Merges `pieces` (laid back to back, as a GRO train) with coalescer `C`; all must join.
  /// Returns the super-packet (the rewritten head, then the others' payloads) and its virtio
  /// header.
  static func merge<C: IPv6Merging>(_ pieces: [[UInt8]], _: C.Type) throws -> (
    [UInt8], VirtioNetHeader
  ) {
    var train = pieces.flatMap { $0 }
    var virtio = [UInt8](repeating: 0xaa, count: VirtioNetHeader.size)
    let segments = try train.withUnsafeMutableBytes { bytes -> Int in
      var coalescer = C()
      var at = 0
      for (i, piece) in pieces.enumerated() {
        let packet = bytes.baseAddress! + at
        let segment = try #require(C.segment(packet, length: piece.count))
        if i == 0 {
          coalescer.start(packet, segment)
        } else {
          let joined = coalescer.append(packet, segment)
          #expect(joined, "piece \(i) joins")
        }
        at += piece.count
      }
      return virtio.withUnsafeMutableBytes { coalescer.finish(virtioHeader: $0.baseAddress!) }
    }
    #expect(segments == pieces.count)
    let headerLength = C.ipv6HeaderLength(pieces[0])
    var merged = Array(train[0..<pieces[0].count])
    var at = pieces[0].count
    for piece in pieces.dropFirst() {
      merged += train[(at + headerLength)..<(at + piece.count)]
      at += piece.count
    }
    return (merged, virtio.withUnsafeBytes { VirtioNetHeader($0.baseAddress!) })
  }

  @Test func tcpSegmentsMergeBackIntoATSO6SuperPacket() throws {
    let packet = Self.tcpSuperPacket(payload: 2500)
    var flagsAck = packet
    flagsAck[53] = 0x18  // ACK|PSH: FIN would not merge
    let pieces = try Self.split(Self.tso(gsoSize: 1000), flagsAck)
    let (merged, virtio) = try Self.merge(pieces, TCPCoalescer.self)
    #expect(virtio.gsoType == VirtioNetHeader.gsoTCPv6)
    #expect(virtio.gsoSize == 1000 && virtio.checksumStart == 40 && virtio.checksumOffset == 16)
    #expect(merged.count == flagsAck.count)
    #expect(Int(get16(merged, 4)) == merged.count - 40)
    #expect(Array(merged[60...]) == Array(flagsAck[60...]))
    #expect(try Self.split(virtio, merged) == pieces, "split again: the same packets")
  }

  @Test func udpDatagramsMergeBackIntoAUSOSuperPacket() throws {
    let packet = Self.udpSuperPacket(payload: 2000)
    let pieces = try Self.split(Self.uso(gsoSize: 800), packet)
    let (merged, virtio) = try Self.merge(pieces, UDPCoalescer.self)
    #expect(virtio.gsoType == VirtioNetHeader.gsoUDP)
    #expect(virtio.headerLength == 48 && virtio.checksumStart == 40 && virtio.checksumOffset == 6)
    #expect(Int(get16(merged, 44)) == merged.count - 40, "UDP length of the whole")
    #expect(try Self.split(virtio, merged) == pieces)
  }

  @Test func anIPv4AndAnIPv6SegmentNeverMerge() throws {
    var v6 = try Self.split(Self.tso(gsoSize: 1000), Self.tcpSuperPacket(payload: 2000))[0]
    v6[53] = 0x10
    let v4 = TCPSegmentFields(payload: [UInt8](repeating: 1, count: 1000)).bytes
    var coalescer = TCPCoalescer()
    var first = v4
    try first.withUnsafeMutableBytes {
      coalescer.start(
        $0.baseAddress!, try #require(TCPCoalescer.segment($0.baseAddress!, length: $0.count)))
    }
    try v6.withUnsafeBytes {
      let segment = try #require(TCPCoalescer.segment($0.baseAddress!, length: $0.count))
      #expect(segment.ipHeaderLength == 40)
      let joined = coalescer.append($0.baseAddress!, segment)
      #expect(!joined)
    }
  }
}

/// The two coalescers, for `IPv6SplitTests.merge`.
protocol IPv6Merging {
  associatedtype Segment
  init()
  static func segment(_ packet: UnsafeRawPointer, length: Int) -> Segment?
  static func ipv6HeaderLength(_ packet: [UInt8]) -> Int
  mutating func start(_ packet: UnsafeMutableRawPointer, _ segment: Segment)
  mutating func append(_ packet: UnsafeRawPointer, _ segment: Segment) -> Bool
  mutating func finish(virtioHeader: UnsafeMutableRawPointer) -> Int
}

extension TCPCoalescer: IPv6Merging {
  static func ipv6HeaderLength(_ packet: [UInt8]) -> Int { 40 + Int(packet[52] >> 4) * 4 }
}

extension UDPCoalescer: IPv6Merging {
  static func ipv6HeaderLength(_ packet: [UInt8]) -> Int { 48 }
}
