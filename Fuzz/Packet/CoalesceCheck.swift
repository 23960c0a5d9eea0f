import Glibc

/// What the harness needs of `TCPCoalescer` and `UDPCoalescer` (same shape), plus what a
/// super-packet of that protocol looks like.
protocol Coalescing {
  associatedtype Segment
  init()
  static func segment(_ packet: UnsafeRawPointer, length: Int) -> Segment?
  static func headerLength(_ segment: Segment) -> Int
  static func payloadLength(_ segment: Segment) -> Int
  var head: UnsafeMutableRawPointer? { get }
  var count: Int { get }
  mutating func start(_ packet: UnsafeMutableRawPointer, _ segment: Segment)
  mutating func append(_ packet: UnsafeRawPointer, _ segment: Segment) -> Bool
  mutating func finish(virtioHeader: UnsafeMutableRawPointer) -> Int
  /// IP protocol, virtio gso type, L4 checksum field (offset from the L4 header).
  static var proto: UInt8 { get }
  static var gsoType: UInt8 { get }
  static var checksumOffset: Int { get }
}

extension TCPCoalescer: Coalescing {
  static func headerLength(_ segment: Segment) -> Int { segment.headerLength }
  static func payloadLength(_ segment: Segment) -> Int { segment.payloadLength }
  static var proto: UInt8 { 6 }
  static var gsoType: UInt8 { 1 }
  static var checksumOffset: Int { 16 }
}

extension UDPCoalescer: Coalescing {
  static func headerLength(_ segment: Segment) -> Int { segment.headerLength }
  static func payloadLength(_ segment: Segment) -> Int { segment.payloadLength }
  static var proto: UInt8 { 17 }
  static var gsoType: UInt8 { 5 }
  static var checksumOffset: Int { 6 }
}

/// Runs packets through a coalescer the way the forwarder does and checks every packet that
/// would go to the TUN: a super-packet (the rewritten first packet followed by the payloads
/// of the others, assembled contiguously) must split back into exactly the packets merged
/// into it, byte for byte; anything else goes out unchanged with a plain header.
enum CoalesceCheck {
  /// Segments per packet written, in order (0: not a candidate, written as it is).
  @discardableResult
  static func run<C: Coalescing>(_ packets: [Packet], _: C.Type, source: Stats.Source) -> [Int] {
    let originals = packets.map { Packet(copying: UnsafeRawBufferPointer($0.bytes)) }
    let virtio = Packet(count: VirtioNetHeader.size)
    var coalescer = C()
    var groups: [Int] = []
    var groupStart = 0
    var headerLength = 0

    func flush(upTo end: Int) {
      virtio.bytes.initializeMemory(as: UInt8.self, repeating: 0xaa)
      let count = coalescer.finish(virtioHeader: virtio.base)
      guard count > 0 else { return }
      check(count == end - groupStart, "finish counted \(count), appended \(end - groupStart)")
      check(coalescer.head == nil && coalescer.count == 0, "finish left state behind")
      let header = VirtioNetHeader(virtio.base)
      groups.append(count)
      guard count > 1 else {
        check(header == VirtioNetHeader(), "single segment with a non-plain header \(header)")
        check(
          packets[groupStart].equals(UnsafeRawBufferPointer(originals[groupStart].bytes)),
          "single segment changed")
        return
      }
      let members = groupStart..<end
      verifySuperPacket(
        members.map { packets[$0] }, originals: members.map { originals[$0] }, C.self,
        header: header, headerLength: headerLength, source: source)
    }

    for (i, packet) in packets.enumerated() {
      guard let segment = C.segment(packet.base, length: packet.count) else {
        flush(upTo: i)
        groups.append(0)
        continue
      }
      check(
        C.headerLength(segment) + C.payloadLength(segment) == packet.count
          && C.payloadLength(segment) > 0, "segment lengths \(segment) for \(packet.count) bytes")
      if coalescer.head != nil && coalescer.append(packet.base, segment) { continue }
      flush(upTo: i)
      coalescer.start(packet.base, segment)
      groupStart = i
      headerLength = C.headerLength(segment)
    }
    flush(upTo: packets.count)
    return groups
  }

  /// Assembles head + payloads into an exact-size buffer, splits it into an exact-size
  /// output and compares every piece with the packet it came from.
  private static func verifySuperPacket<C: Coalescing>(
    _ members: [Packet], originals: [Packet], _: C.Type, header: VirtioNetHeader,
    headerLength: Int, source: Stats.Source
  ) {
    let head = members[0]
    let payload = members.reduce(0) { $0 + $1.count - headerLength }
    let total = headerLength + payload
    check(total <= 65535 && members.count <= 64, "super-packet of \(members.count), \(total) bytes")
    // IPv4, or IPv6 (40-byte header, TCPV6 for TCP, no header checksum).
    let ipv6 = head.u8(0) >> 4 == 6
    let ip = ipv6 ? 40 : 20
    let gsoType = ipv6 && C.proto == 6 ? 4 : C.gsoType
    check(
      header.flags == 1 && header.gsoType == gsoType
        && Int(header.headerLength) == headerLength
        && Int(header.gsoSize) == head.count - headerLength && Int(header.checksumStart) == ip
        && Int(header.checksumOffset) == C.checksumOffset, "virtio header \(header)")
    let superPacket = Packet(count: total)
    superPacket.base.copyMemory(from: head.base, byteCount: head.count)
    var at = head.count
    for member in members.dropFirst() {
      (superPacket.base + at).copyMemory(
        from: member.base + headerLength, byteCount: member.count - headerLength)
      at += member.count - headerLength
    }
    let field = ip + C.checksumOffset
    if ipv6 {
      check(Int(superPacket.u16(4)) == total - 40, "IPv6 payload length \(superPacket.u16(4))")
      let addresses = UnsafeRawBufferPointer(start: superPacket.base + 8, count: 32)
      let pseudo = UInt32(onesComplementSum(addresses)) + UInt32(total - 40) + UInt32(C.proto)
      check(
        superPacket.u16(field) == fold(pseudo), "L4 checksum field is not the pseudo-header sum")
    } else {
      check(Int(superPacket.u16(2)) == total, "IPv4 total length \(superPacket.u16(2)) ≠ \(total)")
      check(superPacket.ipv4ChecksumIsValid, "IPv4 header checksum")
      check(
        superPacket.u16(field) == fold(superPacket.pseudoHeader(protocol: C.proto)),
        "L4 checksum field is not the pseudo-header sum")
    }
    if C.proto == 17 {
      check(Int(superPacket.u16(ip + 4)) == total - ip, "UDP length \(superPacket.u16(ip + 4))")
    }

    let capacity = members.count * headerLength + payload
    let output = Packet(count: capacity)
    let result = SuperPacket.split(
      header, packet: superPacket.base, length: total, into: output.base, capacity: capacity)
    guard case .success(let segments) = result else {
      fatalError("split refused a merged super-packet: \(result)")
    }
    check(segments.count == members.count && segments.bytes == capacity, "split \(segments)")
    // The gathering split (what the forwarder sends: headers apart, payloads in place) must
    // describe the same bytes.
    let headers = Packet(count: members.count * headerLength)
    let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: 2 * members.count)
    defer { vectors.deallocate() }
    let gathered = SuperPacket.split(
      header, packet: superPacket.base, length: total, into: headers.base,
      capacity: headers.count, gather: vectors)
    check(gathered == result, "gathering split \(gathered) ≠ \(result)")
    var offset = 0
    for i in 0..<(2 * members.count) {
      let count = vectors[i].iov_len
      check(offset + count <= capacity, "gathered iovec \(i) beyond the copying split")
      // memcmp, not elementsEqual: a Swift byte loop pays a coverage callback per byte.
      check(
        count == 0 || memcmp(vectors[i].iov_base, output.base + offset, count) == 0,
        "gathered iovec \(i) differs from the copying split")
      offset += count
    }
    check(offset == capacity, "gathered \(offset) bytes of \(capacity)")
    // A TCP sender's checksum of 0xffff verifies like 0x0000, but split (like Linux) never
    // writes it: such a packet cannot come back byte for byte and is not one split could
    // produce. (For UDP 0xffff is what split writes for a computed 0, and a 0 field is
    // refused by the coalescer: every merged datagram must come back.)
    guard C.proto == 17 || originals.allSatisfy({ $0.u16(field) != 0xffff }) else { return }
    at = 0
    for (i, original) in originals.enumerated() {
      let piece = UnsafeRawBufferPointer(rebasing: output.bytes[at..<at + original.count])
      check(original.equals(piece), "segment \(i) of \(members.count) differs after split")
      at += original.count
    }
    if ipv6 { Stats.ipv6RoundTrips += 1 }
    Stats.record(source, udp: C.proto == 17, segments: members.count)
  }
}

/// Traps (libFuzzer saves the input as a crash) when an invariant does not hold.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition { fatalError(message()) }
}
