import DataPlane

/// Test helpers: TCP/IPv4 segments as byte arrays with valid checksums (as `SuperPacket.split`
/// emits them), runs of them, and a driver that feeds a run through `TCPCoalescer` the way
/// the forwarder does (one buffer holding the train back to back).
struct TCPSegmentFields {
  var ihl: UInt8 = 5
  var tos: UInt8 = 0
  var identification: UInt16 = 0x1234
  var flagsAndFragment: UInt16 = 0x4000
  var ttl: UInt8 = 64
  var source: UInt32 = 0x0a01_0102
  var destination: UInt32 = 0x0a01_0202
  var sourcePort: UInt16 = 40000
  var destinationPort: UInt16 = 5201
  var sequence: UInt32 = 1000
  var acknowledgement: UInt32 = 0x0102_0304
  var flags: UInt8 = 0x10  // ACK
  var window: UInt16 = 502
  var urgent: UInt16 = 0
  /// A multiple of 4 bytes.
  var options: [UInt8] = []
  var payload: [UInt8] = Array(0..<100)

  var bytes: [UInt8] {
    var tcp = [UInt8](repeating: 0, count: 20 + options.count)
    put16(&tcp, 0, sourcePort)
    put16(&tcp, 2, destinationPort)
    put32(&tcp, 4, sequence)
    put32(&tcp, 8, acknowledgement)
    tcp[12] = UInt8(tcp.count / 4) << 4
    tcp[13] = flags
    put16(&tcp, 14, window)
    put16(&tcp, 18, urgent)
    tcp.replaceSubrange(20..., with: options)
    var packet = IPv4Fields(
      ihl: ihl, tos: tos, identification: identification, flagsAndFragment: flagsAndFragment,
      ttl: ttl, proto: 6, source: source, destination: destination, payload: tcp + payload
    ).bytes
    let l4 = Int(ihl) * 4
    put16(&packet, l4 + 16, tcpChecksum(packet, l4Start: l4))
    return packet
  }
}

/// The TCP checksum over pseudo-header and segment with the checksum field counted as zero.
func tcpChecksum(_ packet: [UInt8], l4Start: Int = 20) -> UInt16 {
  var segment = Array(packet[l4Start...])
  put16(&segment, 16, 0)
  let length = segment.count
  let pseudo = Array(packet[12..<20]) + [0, 6, UInt8(length >> 8), UInt8(length & 0xff)]
  return referenceChecksum(pseudo + segment)
}

/// The not complemented pseudo-header sum a NEEDS_CSUM packet carries in its checksum field.
func pseudoHeaderSum(_ packet: [UInt8]) -> UInt16 {
  let length = packet.count - 20
  return ~referenceChecksum(
    Array(packet[12..<20]) + [0, 6, UInt8(length >> 8), UInt8(length & 0xff)])
}

/// Consecutive segments of one flow with these payload sizes: sequence and IP ID follow each
/// other from `first`'s, payload bytes differ between segments, PSH on the last if asked.
func segmentRun(
  _ sizes: [Int], first: TCPSegmentFields = TCPSegmentFields(), pushLast: Bool = false
)
  -> [[UInt8]]
{
  var fields = first
  var offset = 0
  var packets: [[UInt8]] = []
  for (i, size) in sizes.enumerated() {
    fields.sequence = first.sequence &+ UInt32(offset)
    fields.identification = first.identification &+ UInt16(truncatingIfNeeded: i)
    fields.payload = (0..<size).map { UInt8(truncatingIfNeeded: (offset + $0) &* 7 &+ 3) }
    fields.flags = pushLast && i == sizes.count - 1 ? first.flags | 0x08 : first.flags
    packets.append(fields.bytes)
    offset += size
  }
  return packets
}

/// What the coalescer made of a train: one entry per packet written to the TUN.
struct CoalescedPacket {
  var virtio: VirtioNetHeader
  var packet: [UInt8]
  /// Segments merged into it; 0 when `segment` refused the packet (written as it is).
  var segments: Int
}

/// Runs `packets` (back to back in one buffer) through a `TCPCoalescer` like the forwarder:
/// candidates start or extend a super-packet, anything else ends it; a super-packet is the
/// rewritten first packet followed by the payloads of the others.
func coalesce(_ packets: [[UInt8]]) -> [CoalescedPacket] {
  var train = packets.flatMap { $0 }
  return train.withUnsafeMutableBytes { raw in
    let base = raw.baseAddress!
    var outputs: [CoalescedPacket] = []
    var coalescer = TCPCoalescer()
    var pieces: [Range<Int>] = []
    func flush() {
      var virtio = [UInt8](repeating: 0xaa, count: VirtioNetHeader.size)
      let count = virtio.withUnsafeMutableBytes { coalescer.finish(virtioHeader: $0.baseAddress!) }
      guard count > 0 else { return }
      let bytes = pieces.flatMap { Array(raw[$0]) }
      outputs.append(
        CoalescedPacket(
          virtio: virtio.withUnsafeBytes { VirtioNetHeader($0.baseAddress!) }, packet: bytes,
          segments: count))
    }
    var at = 0
    for packet in packets {
      let pointer = base + at
      if let segment = TCPCoalescer.segment(pointer, length: packet.count) {
        if coalescer.head != nil && coalescer.append(pointer, segment) {
          pieces.append(at + segment.headerLength..<at + packet.count)
        } else {
          flush()
          coalescer.start(pointer, segment)
          pieces = [at..<at + packet.count]
        }
      } else {
        flush()
        outputs.append(CoalescedPacket(virtio: VirtioNetHeader(), packet: packet, segments: 0))
      }
      at += packet.count
    }
    flush()
    return outputs
  }
}

/// `SuperPacket.split` of a coalesced packet, as separate packets (nil: refused).
func splitBack(_ c: CoalescedPacket) -> [[UInt8]]? {
  var output = [UInt8](repeating: 0, count: 80_000)
  let result = c.packet.withUnsafeBytes { p in
    output.withUnsafeMutableBytes { o in
      SuperPacket.split(
        c.virtio, packet: p.baseAddress!, length: p.count, into: o.baseAddress!, capacity: o.count)
    }
  }
  guard case .success(let segments) = result else { return nil }
  var packets: [[UInt8]] = []
  var at = 0
  while at < segments.bytes {
    let total = Int(get16(output, at + 2))
    packets.append(Array(output[at..<at + total]))
    at += total
  }
  return packets
}
