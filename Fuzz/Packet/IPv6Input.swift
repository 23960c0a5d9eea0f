import Glibc

/// The input as an IPv6 packet in an exact-size buffer (the udp backend's dual-stack path):
/// `IPv6Packet.check` agrees with the harness's own reading of RFC 8200's header chain, the
/// hop-limit step keeps its rule, and the ICMPv6 reply `NoRouteICMPv6` builds is due exactly
/// when RFC 4443 §2.4 (e) allows one, quotes the packet's first bytes and verifies with the
/// pseudo-header. A control byte makes the version, payload length and first next header
/// plausible, so the walk is reached without the fuzzer having to find them.
enum IPv6Input {
  static let nextHeaders: [UInt8] = [0, 43, 44, 51, 60, 6, 17, 58, 59, 0, 60, 44, 58, 0, 43, 60]
  static let tun = (high: UInt64(0xfd10_0000_0000_000f), low: UInt64(0))

  static func run(_ input: inout FuzzInput) {
    let control = input.byte()
    let packet = Packet(copying: UnsafeRawBufferPointer(input.take(input.remaining)))
    if control & 1 != 0 && packet.count >= 1 { packet.set8(0, 0x60 | packet.u8(0) & 0x0f) }
    if control & 2 != 0 && packet.count >= 40 {
      packet.set16(4, UInt16(truncatingIfNeeded: packet.count - 40))
    }
    if control & 4 != 0 && packet.count >= 40 {
      packet.set8(6, nextHeaders[Int(control >> 4)])
    }
    if control & 8 != 0 && packet.count >= 40 { packet.set8(24, 0xfd) }  // not multicast

    let verdict = IPv6Packet.check(UnsafeRawPointer(packet.base), length: packet.count)
    let expected = reference(packet)
    guard verdict == expected.verdict else {
      fail("check said \(verdict), the reference \(expected.verdict)")
    }
    if verdict == .forward {
      Stats.ipv6Forwarded += 1
      let upper = IPv6Packet.upperLayer(UnsafeRawPointer(packet.base), end: expected.end)
      guard let upper, let want = expected.upper, upper.protocolNumber == want.proto,
        upper.offset == want.offset, upper.laterFragment == want.later
      else { fail("upper layer \(String(describing: upper)), expected \(expected)") }
    }
    checkReply(packet, expected)
    checkHopLimit(packet, verdict)
  }

  /// RFC 8200 read independently: the verdict, where the payload ends, the upper layer.
  static func reference(_ p: Packet) -> (
    verdict: PacketVerdict, end: Int, upper: (proto: UInt8, offset: Int, later: Bool)?
  ) {
    guard p.count >= 40 else { return (.malformedIPv6, 0, nil) }
    guard p.u8(0) >> 4 == 6 else { return (.notIPv4, 0, nil) }
    let end = 40 + Int(p.u16(4))
    guard end <= p.count else { return (.malformedIPv6, end, nil) }
    var next = p.u8(6)
    var at = 40
    var headers = 0
    while [0, 43, 44, 51, 60].contains(next) {
      guard headers < 16, at + 8 <= end else { return (.malformedIPv6, end, nil) }
      let size: Int
      switch next {
      case 44: size = 8
      case 51: size = (Int(p.u8(at + 1)) + 2) * 4
      default: size = (Int(p.u8(at + 1)) + 1) * 8
      }
      let later = next == 44 && p.u16(at + 2) >> 3 != 0
      next = p.u8(at)
      at += size
      headers += 1
      guard at <= end else { return (.malformedIPv6, end, nil) }
      if later { return (.forward, end, (next, at, true)) }
    }
    return (.forward, end, (next, at, false))
  }

  static func checkReply(
    _ p: Packet,
    _ expected: (verdict: PacketVerdict, end: Int, upper: (proto: UInt8, offset: Int, later: Bool)?)
  ) {
    let output = Packet(count: NoRouteICMPv6.maximumLength)
    let length = NoRouteICMPv6.build(
      offender: UnsafeRawPointer(p.base), length: p.count, tunHigh: tun.high, tunLow: tun.low,
      into: output.base, capacity: output.count)
    var due = false
    if expected.verdict == .forward, let upper = expected.upper, !upper.later,
      p.u8(24) != 0xff, p.u8(8) != 0xff,
      (8..<24).contains(where: { p.u8($0) != 0 })
    {
      due = upper.proto != 58 || (upper.offset < expected.end && p.u8(upper.offset) >= 128)
    }
    guard due == (length > 0) else { fail("reply \(length) bytes, due: \(due)") }
    guard length > 0 else { return }
    Stats.ipv6Replies += 1
    let quoted = min(expected.end, 48)
    guard length == 48 + quoted, output.u16(4) == UInt16(8 + quoted), output.u8(0) == 0x60,
      output.u8(6) == 58, output.u8(40) == 1, output.u8(41) == 0,
      memcmp(output.base + 48, p.base, quoted) == 0,
      memcmp(output.base + 24, p.base + 8, 16) == 0
    else { fail("reply fields") }
    // The checksum over the pseudo-header: addresses, upper-layer length, next header 58.
    let addresses = UnsafeRawBufferPointer(start: output.base + 8, count: 32)
    let pseudo = UInt32(onesComplementSum(addresses)) + UInt32(8 + quoted) + 58
    let icmp = UnsafeRawBufferPointer(start: output.base + 40, count: 8 + quoted)
    guard onesComplementSum(icmp, initial: pseudo) == 0xffff else { fail("ICMPv6 checksum") }
  }

  static func checkHopLimit(_ p: Packet, _ verdict: PacketVerdict) {
    guard verdict == .forward else { return }
    let before = p.u8(7)
    let result = IPv6Packet.decrementHopLimit(p.base)
    guard result == (before > 1 ? .forward : .hopLimitExpired),
      p.u8(7) == (before > 1 ? before - 1 : before)
    else { fail("hop limit \(before) → \(p.u8(7)), \(result)") }
  }

  static func fail(_ what: String) -> Never {
    fatalError("IPv6: \(what)")
  }
}

extension IPv6Input {
  /// An IPv6 TSO6 / USO super-packet built from the input (addresses, TCP options and flags,
  /// gso size and payload from it; optionally one byte flipped) through `SuperPacket.split`
  /// into an exact-size output: a well-formed one splits into packets whose payload lengths,
  /// TCP sequence numbers and flags, UDP lengths and pseudo-header checksums are right and
  /// whose payloads add up to the original; a flipped one never crashes.
  static func superPacket(_ input: inout FuzzInput) {
    let control = input.byte()
    let udp = control & 1 != 0
    let gsoSize = Int(input.u16() % 3000)
    let addresses = input.take(32)
    let options = udp ? 0 : min(Int(control >> 4) * 4, 40)
    let l4 = udp ? 8 : 20 + options
    let flags = input.byte() & 0x89 | 0x10
    let optionBytes = input.take(options)
    let payload = input.take(min(input.remaining, 60_000))
    let packet = Packet(count: 40 + l4 + payload.count)
    packet.set8(0, 0x60)
    packet.set16(4, UInt16(truncatingIfNeeded: l4 + payload.count))
    packet.set8(6, udp ? 17 : 6)
    packet.set8(7, 64)
    for (i, byte) in addresses.enumerated() { packet.set8(8 + i, byte) }
    packet.set32(40, 0x9c40_1389)  // ports
    if !udp {
      packet.set32(44, 0x1234_5678)
      packet.set8(52, UInt8((20 + options) / 4) << 4)
      packet.set8(53, flags)
      for (i, byte) in optionBytes.enumerated() { packet.set8(60 + i, byte) }
    }
    if payload.count > 0 {
      (packet.base + 40 + l4).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
    }
    var header = VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum,
      gsoType: udp ? VirtioNetHeader.gsoUDP : VirtioNetHeader.gsoTCPv6,
      headerLength: UInt16(40 + l4), gsoSize: UInt16(gsoSize), checksumStart: 40,
      checksumOffset: udp ? 6 : 16)
    let flipped = control & 2 != 0
    if flipped {
      let at = Int(input.byte()) % (40 + l4)
      packet.set8(at, packet.u8(at) ^ (input.byte() | 1))
      if control & 4 != 0 { header.checksumStart = UInt16(input.byte()) }
    }
    let payloadBytes = packet.count - 40 - l4
    let count = gsoSize > 0 ? (payloadBytes + gsoSize - 1) / gsoSize : 0
    let capacity = flipped ? Int(input.u16()) : count * (40 + l4) + payloadBytes
    let output = Packet(count: max(capacity, 1))
    let result = SuperPacket.split(
      header, packet: packet.base, length: packet.count, into: output.base, capacity: capacity)
    if flipped { return }
    guard case .success(let segments) = result else {
      guard gsoSize == 0 || payloadBytes == 0 || count > SuperPacket.maxSegments else {
        fail("split refused a well-formed IPv6 super-packet: \(result)")
      }
      return
    }
    guard segments.count == count, segments.bytes == capacity else {
      fail("split \(segments), expected \(count) segments of \(capacity) bytes")
    }
    Stats.ipv6Splits += 1
    var at = 0
    var joined: [UInt8] = []
    for i in 0..<count {
      let total = 40 + Int(output.u16(at + 4))
      let size = total - 40 - l4
      guard size == min(gsoSize, payloadBytes - i * gsoSize), at + total <= segments.bytes,
        memcmp(output.base + at + 6, packet.base + 6, 34) == 0,
        memcmp(output.base + at + 40, packet.base + 40, 4) == 0
      else { fail("segment \(i): \(total) bytes at \(at)") }
      let piece = UnsafeRawBufferPointer(start: output.base + at, count: total)
      let addresses = UnsafeRawBufferPointer(start: piece.baseAddress! + 8, count: 32)
      let pseudo =
        UInt32(onesComplementSum(addresses)) + UInt32(total - 40) + UInt32(udp ? 17 : 6)
      let upper = UnsafeRawBufferPointer(start: piece.baseAddress! + 40, count: total - 40)
      guard onesComplementSum(upper, initial: pseudo) == 0xffff else {
        fail("segment \(i): checksum")
      }
      if udp {
        guard output.u16(at + 44) == UInt16(total - 40), output.u16(at + 46) != 0 else {
          fail("segment \(i): UDP length or zero checksum")
        }
      } else {
        let sequence = output.u32(at + 44)
        var want = flags
        if i != count - 1 { want &= ~0x09 }
        if i > 0 { want &= ~0x80 }
        guard sequence == 0x1234_5678 &+ UInt32(i * gsoSize), output.u8(at + 53) == want,
          memcmp(output.base + at + 60, packet.base + 60, options) == 0
        else { fail("segment \(i): sequence, flags or options") }
      }
      joined += UnsafeRawBufferPointer(start: piece.baseAddress! + 40 + l4, count: size)
      at += total
    }
    guard at == segments.bytes,
      joined.elementsEqual(
        UnsafeRawBufferPointer(start: packet.base + 40 + l4, count: payloadBytes))
    else { fail("payloads do not add up") }
    // The pieces through the coalescer: they merge back into super-packets that split back
    // byte for byte (a TCP piece whose checksum is 0xffff cannot come back: CoalesceCheck).
    var pieces: [Packet] = []
    at = 0
    for _ in 0..<count {
      let total = 40 + Int(output.u16(at + 4))
      pieces.append(
        Packet(copying: UnsafeRawBufferPointer(rebasing: output.bytes[at..<at + total])))
      at += total
    }
    if udp {
      let groups = CoalesceCheck.run(pieces, UDPCoalescer.self, source: .splitOutput)
      guard pieces.count > UDPCoalescer.maxSegments || groups == [pieces.count] else {
        fail("UDP split output of \(pieces.count) pieces merged as \(groups)")
      }
    } else {
      CoalesceCheck.run(pieces, TCPCoalescer.self, source: .splitOutput)
    }
  }
}
