/// Part (a): a run of TCP segments of one flow built from the input the way
/// `SuperPacket.split` would have cut them (sequence and IP ID following each other, equal
/// headers, PSH only on the last, valid checksums computed by the harness's own code), with
/// at most one "breaker" that must end a super-packet. Every packet written is round-trip
/// checked by `CoalesceCheck`; without a breaker the grouping itself is checked too.
enum GeneratedRun {
  struct Flow {
    var source: UInt32
    var destination: UInt32
    var sourcePort: UInt16
    var destinationPort: UInt16
    var acknowledgement: UInt32
    var window: UInt16
    var ttl: UInt8
    var tos: UInt8
    /// DF and the reserved bit; never a fragment.
    var ipFlags: UInt16
    /// TCP byte 32's low nibble (reserved bits, AE): copied by split like any header byte.
    var reserved: UInt8
    var urgent: UInt16
    var options: [UInt8]

    var headerLength: Int { 40 + options.count }
  }

  enum Breaker: UInt8, CaseIterable {
    case none, push, shorter, longer, sequenceGap, identificationGap, acknowledgement
    case headerField, optionByte, flags, corrupt, otherFlow
  }

  static func run(_ input: inout FuzzInput) {
    var flow = Flow(
      source: input.u32(), destination: input.u32(), sourcePort: input.u16(),
      destinationPort: input.u16(), acknowledgement: input.u32(), window: input.u16(),
      ttl: input.byte(), tos: input.byte(), ipFlags: UInt16(input.byte() & 0xc0) << 8,
      reserved: input.byte() & 0x0f, urgent: input.u16(), options: [])
    let optionBytes = 4 * Int(input.byte() % 11)
    flow.options = Array(input.take(optionBytes))
    flow.options += [UInt8](repeating: 0, count: optionBytes - flow.options.count)
    var identification = input.u16()
    var sequence = input.u32()

    // Segment size: mostly small (many segments, cheap), sometimes MSS-like, rarely huge
    // (to reach the 65,535-byte limit).
    let maxSize = 65535 - flow.headerLength
    // Bytes per run are bounded for time per input: ~24 kB, ~80 kB for the rare huge sizes
    // (still over 65,535 bytes).
    let size: Int
    let budget: Int
    switch input.byte() % 16 {
    case 0..<10: (size, budget) = (1 + Int(input.byte() % 64), 24_000)
    case 10..<15: (size, budget) = (1 + Int(input.u16()) % 1460, 24_000)
    default: (size, budget) = (1 + Int(input.u16()) % maxSize, 80_000)
    }
    let count = min(1 + Int(input.byte()) % 70, max(2, budget / size))
    var sizes = [Int](repeating: size, count: count)
    let shape = input.byte()
    if shape & 1 != 0 { sizes[count - 1] = 1 + Int(input.u16()) % size }
    let pushLast = shape & 2 != 0
    let breakerByte = input.byte()
    let breaker = Breaker(rawValue: breakerByte % 24) ?? .none  // half of the runs: none
    let at = Int(input.byte()) % count
    let detail = input.u16()
    var payload = PayloadBytes(state: input.u64())

    var packets: [Packet] = []
    for i in 0..<count {
      var flags: UInt8 = 0x10
      if pushLast && i == count - 1 { flags |= 0x08 }
      var corrupt = false
      if i == at {
        switch breaker {
        case .none: break
        case .push: flags |= 0x08
        case .shorter: sizes[i] = size > 1 ? 1 + Int(detail) % (size - 1) : 1
        case .longer: sizes[i] = min(maxSize, size + 1 + Int(detail % 1000))
        case .sequenceGap: sequence &+= 1 + UInt32(detail)
        case .identificationGap: identification &+= 1 + detail % 0xffff
        case .acknowledgement: flow.acknowledgement &+= 1 + UInt32(detail)
        case .headerField:
          switch detail % 10 {
          case 0: flow.window &+= 1
          case 1: flow.ttl &+= 1
          case 2: flow.tos &+= 1
          case 3: flow.urgent &+= 1
          case 4: flow.reserved ^= 1 << (detail >> 8 & 3)
          case 5: flow.ipFlags ^= detail & 0x100 == 0 ? 0x4000 : 0x8000
          case 6: flow.source &+= 1
          case 7: flow.destination ^= 1 << (detail >> 8 & 31)
          case 8: flow.destinationPort &+= 1
          default: flow.acknowledgement &+= 1 << (detail >> 8 & 31)
          }
        case .optionByte:
          if flow.options.isEmpty {
            flow.window &+= 1
          } else {
            flow.options[Int(detail) % flow.options.count] &+= 1
          }
        case .flags:
          let refused: [UInt8] = [0x12, 0x11, 0x14, 0x30, 0x90, 0x50, 0x00, 0x08, 0x19]
          flags = refused[Int(detail) % refused.count]
        case .corrupt: corrupt = true
        case .otherFlow: flow.sourcePort &+= 1
        }
      }
      let packet = build(
        flow, size: sizes[i], sequence: sequence, identification: identification, flags: flags,
        payload: &payload)
      if corrupt {
        // A bad TCP or IPv4 header checksum: the receiver's stack must see it and drop it.
        let field = detail & 1 == 0 ? 36 : 10
        packet.set16(field, packet.u16(field) &+ 1)
      }
      packets.append(packet)
      sequence &+= UInt32(sizes[i])
      identification &+= 1
    }

    let groups = CoalesceCheck.run(packets, TCPCoalescer.self, source: .generatedRun)
    if breaker == .none {
      let expected = greedyGroups(sizes, headerLength: flow.headerLength)
      check(groups == expected, "groups \(groups), expected \(expected) for sizes \(sizes)")
    } else {
      check(groups.reduce(0) { $0 + max($1, 1) } == count, "groups \(groups) for \(count)")
    }
  }

  /// A clean run (equal sizes, only the last may be shorter or carry PSH) merges greedily:
  /// up to 64 segments and 65,535 bytes per super-packet.
  static func greedyGroups(_ sizes: [Int], headerLength: Int) -> [Int] {
    var groups: [Int] = []
    var i = 0
    while i < sizes.count {
      var n = 1
      var bytes = headerLength + sizes[i]
      while i + n < sizes.count && n < 64 && bytes + sizes[i + n] <= 65535 {
        bytes += sizes[i + n]
        n += 1
      }
      groups.append(n)
      i += n
    }
    return groups
  }

  static func build(
    _ flow: Flow, size: Int, sequence: UInt32, identification: UInt16, flags: UInt8,
    payload: inout PayloadBytes
  ) -> Packet {
    let p = Packet(count: flow.headerLength + size)
    p.set8(0, 0x45)
    p.set8(1, flow.tos)
    p.set16(2, UInt16(p.count))
    p.set16(4, identification)
    p.set16(6, flow.ipFlags)
    p.set8(8, flow.ttl)
    p.set8(9, 6)
    p.set32(12, flow.source)
    p.set32(16, flow.destination)
    p.set16(20, flow.sourcePort)
    p.set16(22, flow.destinationPort)
    p.set32(24, sequence)
    p.set32(28, flow.acknowledgement)
    p.set8(32, UInt8((flow.headerLength - 20) / 4) << 4 | flow.reserved)
    p.set8(33, flags)
    p.set16(34, flow.window)
    p.set16(38, flow.urgent)
    for (i, byte) in flow.options.enumerated() { p.set8(40 + i, byte) }
    payload.fill(UnsafeMutableRawBufferPointer(rebasing: p.bytes[flow.headerLength...]))
    p.fixIPv4Checksum()
    p.fixL4Checksum(protocol: 6, field: 16)
    return p
  }
}
