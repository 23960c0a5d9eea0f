import DataPlane

/// Test helpers: UDP/IPv4 datagrams as byte arrays with valid checksums (as
/// `SuperPacket.split` emits them), runs of them, and a driver that feeds a train through
/// `UDPCoalescer` the way the forwarder does.
struct UDPDatagramFields {
  var ihl: UInt8 = 5
  var tos: UInt8 = 0
  var identification: UInt16 = 0x1234
  var flagsAndFragment: UInt16 = 0x4000
  var ttl: UInt8 = 64
  var source: UInt32 = 0x0a01_0102
  var destination: UInt32 = 0x0a01_0202
  var sourcePort: UInt16 = 40000
  var destinationPort: UInt16 = 5301
  var payload: [UInt8] = Array(0..<100)

  var bytes: [UInt8] {
    var udp = [UInt8](repeating: 0, count: 8)
    put16(&udp, 0, sourcePort)
    put16(&udp, 2, destinationPort)
    put16(&udp, 4, UInt16(truncatingIfNeeded: 8 + payload.count))
    var packet = IPv4Fields(
      ihl: ihl, tos: tos, identification: identification, flagsAndFragment: flagsAndFragment,
      ttl: ttl, proto: 17, source: source, destination: destination, payload: udp + payload
    ).bytes
    let l4 = Int(ihl) * 4
    put16(&packet, l4 + 6, udpChecksum(packet, l4Start: l4))
    return packet
  }
}

/// The UDP checksum over pseudo-header and datagram with the checksum field counted as zero;
/// a computed 0 is sent as 0xffff (RFC 768).
func udpChecksum(_ packet: [UInt8], l4Start: Int = 20) -> UInt16 {
  var datagram = Array(packet[l4Start...])
  put16(&datagram, 6, 0)
  let length = datagram.count
  let pseudo = Array(packet[12..<20]) + [0, 17, UInt8(length >> 8), UInt8(length & 0xff)]
  let checksum = referenceChecksum(pseudo + datagram)
  return checksum == 0 ? 0xffff : checksum
}

/// The not complemented UDP pseudo-header sum a NEEDS_CSUM packet carries in its checksum
/// field.
func udpPseudoHeaderSum(_ packet: [UInt8]) -> UInt16 {
  let length = packet.count - 20
  return ~referenceChecksum(
    Array(packet[12..<20]) + [0, 17, UInt8(length >> 8), UInt8(length & 0xff)])
}

/// Consecutive datagrams of one flow with these payload sizes: IP ID following each other
/// from `first`'s, payload bytes differing between datagrams.
func datagramRun(_ sizes: [Int], first: UDPDatagramFields = UDPDatagramFields()) -> [[UInt8]] {
  var fields = first
  var offset = 0
  var packets: [[UInt8]] = []
  for (i, size) in sizes.enumerated() {
    fields.identification = first.identification &+ UInt16(truncatingIfNeeded: i)
    fields.payload = (0..<size).map { UInt8(truncatingIfNeeded: (offset + $0) &* 13 &+ 5) }
    packets.append(fields.bytes)
    offset += size
  }
  return packets
}

/// Runs `packets` (back to back in one buffer) through a `UDPCoalescer` like the forwarder:
/// candidates start or extend a super-packet, anything else ends it; a super-packet is the
/// rewritten first packet followed by the payloads of the others.
func coalesceUDP(_ packets: [[UInt8]]) -> [CoalescedPacket] {
  var train = packets.flatMap { $0 }
  return train.withUnsafeMutableBytes { raw in
    let base = raw.baseAddress!
    var outputs: [CoalescedPacket] = []
    var coalescer = UDPCoalescer()
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
      if let segment = UDPCoalescer.segment(pointer, length: packet.count) {
        if coalescer.head != nil && coalescer.append(pointer, segment) {
          pieces.append(at + UDPCoalescer.headerLength..<at + packet.count)
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
