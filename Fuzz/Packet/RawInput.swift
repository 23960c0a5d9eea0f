/// Part (b): the raw input as packets and super-packets, each in an exact-size heap buffer,
/// through every entry point with header fields from the input. Nothing may crash or touch
/// memory outside the buffers (AddressSanitizer); what merges must still split back.
enum RawInput {
  /// A train of packets cut from the input. Per packet a control byte: its length (1 or 2
  /// bytes), whether to make it continue the previous packet (its header with the next
  /// sequence and IP ID, optionally one header byte changed), and which of total length /
  /// IPv4 / TCP checksum to make valid, so that the fuzzer reaches merges without having to
  /// solve checksums. With `udp`, the same for UDP datagrams (a continuation: the previous
  /// one's 28 header bytes with the next IP ID) through `UDPCoalescer`.
  static func train(_ input: inout FuzzInput, udp: Bool = false) {
    var packets: [Packet] = []
    while input.remaining > 0 && packets.count < 80 {
      let control = input.byte()
      var length = Int(input.byte())
      if control & 0x80 != 0 { length |= Int(input.byte()) << 8 }
      let packet: Packet
      if control & 0x40 != 0, let previous = packets.last,
        let header = udp ? (previous.count >= 28 ? 28 : nil) : tcpHeaderLength(previous)
      {
        let payload = input.take(length)
        packet = Packet(count: header + payload.count)
        packet.base.copyMemory(from: previous.base, byteCount: header)
        if payload.count > 0 {
          (packet.base + header).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        }
        packet.set16(4, previous.u16(4) &+ 1)
        if !udp {
          packet.set32(24, previous.u32(24) &+ UInt32(previous.count - header))
          packet.set8(33, packet.u8(33) & ~0x08 | (control & 0x08))  // PSH from the control
        }
        if control & 1 != 0 {
          // One header byte flipped: every field the coalescer must compare gets a turn.
          let at = Int(input.byte()) % header
          packet.set8(at, packet.u8(at) ^ input.byte())
        }
      } else {
        packet = Packet(copying: UnsafeRawBufferPointer(input.take(length)))
      }
      if control & 0x10 != 0 && packet.count >= (udp ? 28 : 40) {
        // Plausible: plain IPv4, no fragment; TCP with ACK (PSH from the control) and data
        // offset ≥ 5, or UDP.
        packet.set8(0, 0x45)
        packet.set8(9, udp ? 17 : 6)
        packet.set16(6, packet.u16(6) & 0xc000)
        if !udp {
          packet.set8(33, 0x10 | (control & 0x08))
          if packet.u8(32) < 0x50 { packet.set8(32, 0x50 | packet.u8(32) & 0x0f) }
        }
      }
      // A continuation is fixed up unless 0x20 says to leave it (fields from the input).
      let fixAll = control & 0x40 != 0 && control & 0x20 == 0
      if (fixAll || control & 1 != 0) && packet.count >= 4 {
        packet.set16(2, UInt16(truncatingIfNeeded: packet.count))
      }
      if udp && (fixAll || control & 8 != 0) && packet.count >= 28 {
        packet.set16(24, UInt16(truncatingIfNeeded: packet.count - 20))  // UDP length
      }
      if (fixAll || control & 2 != 0) && packet.count >= 20 { packet.fixIPv4Checksum() }
      if (fixAll || control & 4 != 0) && packet.count >= (udp ? 28 : 40) {
        packet.fixL4Checksum(protocol: udp ? 17 : 6, field: udp ? 6 : 16)
      }
      packets.append(packet)
    }
    if udp {
      CoalesceCheck.run(packets, UDPCoalescer.self, source: .rawTrain)
    } else {
      CoalesceCheck.run(packets, TCPCoalescer.self, source: .rawTrain)
    }
  }

  /// IPv4 (20 bytes) + TCP header length when the packet holds that much, else nil.
  static func tcpHeaderLength(_ p: Packet) -> Int? {
    guard p.count >= 40 else { return nil }
    let header = 20 + Int(p.u8(32) >> 4) * 4
    return header >= 40 && header <= p.count ? header : nil
  }

  /// A super-packet as the TUN would hand it over: a virtio header and the packet from the
  /// input (optionally made more plausible), into `completeChecksum`, `segment` and `split`
  /// with an exact-size output. What split produces must be valid packets; TCP ones go
  /// through the coalescer again, where the round trip must hold.
  static func superPacket(_ input: inout FuzzInput) {
    let control = input.byte()
    let headerBytes = Packet(copying: UnsafeRawBufferPointer(input.take(VirtioNetHeader.size)))
    let virtio = Packet(count: VirtioNetHeader.size)
    virtio.base.copyMemory(from: headerBytes.base, byteCount: headerBytes.count)
    var header = VirtioNetHeader(virtio.base)
    let randomCapacity = Int(input.u32() % 80_000)
    let packet = Packet(copying: UnsafeRawBufferPointer(input.take(input.remaining)))
    // 0x40: plausible (a TSO/USO super-packet as the kernel hands it over; 0x80: UDP), with
    // the TCP flags from the input limited to ACK plus PSH/FIN/CWR; else bit by bit.
    let plausible = control & 0x40 != 0
    if plausible {
      header.flags = VirtioNetHeader.needsChecksum
      header.gsoType = control & 0x80 != 0 ? VirtioNetHeader.gsoUDP : VirtioNetHeader.gsoTCPv4
      if header.gsoSize == 0 { header.gsoSize = 1 }
      if control & 0x80 == 0 && packet.count >= 34 {
        packet.set8(33, 0x10 | packet.u8(33) & 0x89)
      }
    }
    if (plausible || control & 1 != 0) && packet.count >= 1 { packet.set8(0, 0x45) }
    if (plausible || control & 2 != 0) && packet.count >= 20 {
      packet.set16(6, packet.u16(6) & 0xc000)  // no fragment
      packet.set8(9, header.gsoType & 0x7f == 5 ? 17 : 6)
    }
    if (plausible || control & 4 != 0) && packet.count >= 4 {
      packet.set16(2, UInt16(truncatingIfNeeded: packet.count))
    }
    if (plausible || control & 8 != 0) && packet.count >= 20 { packet.fixIPv4Checksum() }
    if plausible || control & 16 != 0 {
      header.checksumStart = 20
      header.checksumOffset = packet.count >= 10 && packet.u8(9) == 17 ? 6 : 16
    }

    // Not a GSO packet, checksum left to us.
    let partial = Packet(copying: UnsafeRawBufferPointer(packet.bytes))
    _ = SuperPacket.completeChecksum(header, packet: partial.base, length: partial.count)

    // As one packet of a train.
    alone(packet, TCPCoalescer.self, virtio: virtio)
    alone(packet, UDPCoalescer.self, virtio: virtio)

    let capacity =
      control & 32 != 0 ? neededCapacity(header, packet) ?? randomCapacity : randomCapacity
    let output = Packet(count: capacity)
    let result = SuperPacket.split(
      header, packet: packet.base, length: packet.count, into: output.base, capacity: capacity)
    guard case .success(let segments) = result else { return }
    Stats.rawSplits += 1
    check(
      segments.count >= 1 && segments.count <= SuperPacket.maxSegments
        && segments.bytes <= capacity, "split \(segments) into \(capacity)")
    let isTCP = packet.u8(9) == 6
    var pieces: [Packet] = []
    var at = 0
    for i in 0..<segments.count {
      let total = Int(output.u16(at + 2))
      check(
        total == (i == 0 ? segments.segmentLength : total) && total <= segments.segmentLength
          && at + total <= segments.bytes, "piece \(i): \(total) bytes at \(at)")
      let piece = Packet(copying: UnsafeRawBufferPointer(rebasing: output.bytes[at..<at + total]))
      check(piece.ipv4ChecksumIsValid, "piece \(i): IPv4 header checksum")
      check(piece.l4ChecksumIsValid(protocol: isTCP ? 6 : 17), "piece \(i): L4 checksum")
      pieces.append(piece)
      at += total
    }
    check(at == segments.bytes, "pieces cover \(at) of \(segments.bytes) bytes")
    if isTCP {
      CoalesceCheck.run(pieces, TCPCoalescer.self, source: .splitOutput)
    } else {
      // What split cut from one USO super-packet merges back into one (≤ 64 pieces).
      let groups = CoalesceCheck.run(pieces, UDPCoalescer.self, source: .splitOutput)
      check(
        pieces.count > UDPCoalescer.maxSegments || groups == [pieces.count],
        "UDP split output of \(pieces.count) pieces merged as \(groups)")
    }
  }

  /// A candidate alone: finish leaves it untouched with a plain header, and it does not
  /// continue itself (same IP ID).
  static func alone<C: Coalescing>(_ packet: Packet, _: C.Type, virtio: Packet) {
    guard let segment = C.segment(packet.base, length: packet.count) else { return }
    check(
      C.headerLength(segment) + C.payloadLength(segment) == packet.count, "segment \(segment)")
    let copy = Packet(copying: UnsafeRawBufferPointer(packet.bytes))
    var coalescer = C()
    coalescer.start(copy.base, segment)
    check(!coalescer.append(packet.base, segment), "appended a segment to itself")
    check(coalescer.finish(virtioHeader: virtio.base) == 1, "one segment")
    check(VirtioNetHeader(virtio.base) == VirtioNetHeader(), "one segment: plain header")
    check(copy.equals(UnsafeRawBufferPointer(packet.bytes)), "single segment changed")
  }

  /// What split needs for this super-packet (its own arithmetic), nil when it will refuse.
  static func neededCapacity(_ header: VirtioNetHeader, _ packet: Packet) -> Int? {
    guard packet.count >= 28, header.gsoSize > 0 else { return nil }
    let l4: Int
    if packet.u8(9) == 6 {
      guard let tcp = tcpHeaderLength(packet) else { return nil }
      l4 = tcp - 20
    } else {
      l4 = 8
    }
    let payload = packet.count - 20 - l4
    guard payload > 0 else { return nil }
    let count = (payload + Int(header.gsoSize) - 1) / Int(header.gsoSize)
    return count * (20 + l4) + payload
  }
}
