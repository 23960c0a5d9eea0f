/// Part (a) for UDP: a run of datagrams of one flow built from the input the way
/// `SuperPacket.split` would have cut a USO super-packet (IP ID following each other, equal
/// headers, UDP length = IP payload, valid checksums computed by the harness's own code, a
/// computed 0 sent as 0xffff), with at most one "breaker" that must end a super-packet.
/// Every packet written is round-trip checked by `CoalesceCheck`; without a breaker the
/// grouping itself is checked too.
enum GeneratedUDPRun {
  struct Flow {
    var source: UInt32
    var destination: UInt32
    var sourcePort: UInt16
    var destinationPort: UInt16
    var ttl: UInt8
    var tos: UInt8
    /// DF and the reserved bit; never a fragment.
    var ipFlags: UInt16
  }

  enum Breaker: UInt8, CaseIterable {
    case none, shorter, longer, identificationGap, headerField, corrupt, noChecksum
    case udpLength, otherFlow, tcp
  }

  static func run(_ input: inout FuzzInput) {
    var flow = Flow(
      source: input.u32(), destination: input.u32(), sourcePort: input.u16(),
      destinationPort: input.u16(), ttl: input.byte(), tos: input.byte(),
      ipFlags: UInt16(input.byte() & 0xc0) << 8)
    var identification = input.u16()
    // Datagram size: mostly small (many datagrams, cheap), sometimes MTU-like, rarely huge
    // (to reach the 65,535-byte limit); bytes per run bounded as in GeneratedRun.
    let maxSize = 65535 - 28
    let size: Int
    let budget: Int
    switch input.byte() % 16 {
    case 0..<10: (size, budget) = (1 + Int(input.byte() % 64), 24_000)
    case 10..<15: (size, budget) = (1 + Int(input.u16()) % 1472, 24_000)
    default: (size, budget) = (1 + Int(input.u16()) % maxSize, 80_000)
    }
    let count = min(1 + Int(input.byte()) % 70, max(2, budget / size))
    var sizes = [Int](repeating: size, count: count)
    let shape = input.byte()
    if shape & 1 != 0 { sizes[count - 1] = 1 + Int(input.u16()) % size }
    let breaker = Breaker(rawValue: input.byte() % 20) ?? .none  // half of the runs: none
    let at = Int(input.byte()) % count
    let detail = input.u16()
    var payload = PayloadBytes(state: input.u64())

    var packets: [Packet] = []
    for i in 0..<count {
      var damage: Breaker = .none
      if i == at {
        switch breaker {
        case .none: break
        case .shorter: sizes[i] = size > 1 ? 1 + Int(detail) % (size - 1) : 1
        case .longer: sizes[i] = min(maxSize, size + 1 + Int(detail % 1000))
        case .identificationGap: identification &+= 1 + detail % 0xffff
        case .headerField:
          switch detail % 6 {
          case 0: flow.ttl &+= 1
          case 1: flow.tos &+= 1
          case 2: flow.ipFlags ^= detail & 0x100 == 0 ? 0x4000 : 0x8000
          case 3: flow.source &+= 1
          case 4: flow.destination ^= 1 << (detail >> 8 & 31)
          default: flow.destinationPort &+= 1
          }
        case .otherFlow: flow.sourcePort &+= 1
        case .corrupt, .noChecksum, .udpLength, .tcp: damage = breaker
        }
      }
      let packet = build(flow, size: sizes[i], identification: identification, payload: &payload)
      switch damage {
      case .corrupt:
        // A bad UDP or IPv4 header checksum: the receiver's stack must see it and drop it.
        let field = detail & 1 == 0 ? 26 : 10
        packet.set16(field, packet.u16(field) &+ 1)
      case .noChecksum: packet.set16(26, 0)
      case .udpLength:
        packet.set16(24, packet.u16(24) &+ (detail & 1 == 0 ? 1 : 0xffff))
        packet.fixL4Checksum(protocol: 17, field: 6)
      case .tcp:
        packet.set8(9, 6)
        packet.fixIPv4Checksum()
      default: break
      }
      packets.append(packet)
      identification &+= 1
    }

    let groups = CoalesceCheck.run(packets, UDPCoalescer.self, source: .generatedRun)
    if breaker == .none {
      let expected = GeneratedRun.greedyGroups(sizes, headerLength: 28)
      check(groups == expected, "UDP groups \(groups), expected \(expected) for sizes \(sizes)")
    } else {
      check(groups.reduce(0) { $0 + max($1, 1) } == count, "UDP groups \(groups) for \(count)")
    }
  }

  static func build(
    _ flow: Flow, size: Int, identification: UInt16, payload: inout PayloadBytes
  ) -> Packet {
    let p = Packet(count: 28 + size)
    p.set8(0, 0x45)
    p.set8(1, flow.tos)
    p.set16(2, UInt16(p.count))
    p.set16(4, identification)
    p.set16(6, flow.ipFlags)
    p.set8(8, flow.ttl)
    p.set8(9, 17)
    p.set32(12, flow.source)
    p.set32(16, flow.destination)
    p.set16(20, flow.sourcePort)
    p.set16(22, flow.destinationPort)
    p.set16(24, UInt16(p.count - 20))
    payload.fill(UnsafeMutableRawBufferPointer(rebasing: p.bytes[28...]))
    p.fixIPv4Checksum()
    p.fixL4Checksum(protocol: 17, field: 6)
    return p
  }
}
