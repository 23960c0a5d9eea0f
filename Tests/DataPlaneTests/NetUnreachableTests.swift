import DataPlane
import Testing

@Suite struct NetUnreachableTests {
  func build(_ offender: [UInt8], tun: UInt32 = 0x0a01_0100, capacity: Int = 128) -> [UInt8] {
    var out = [UInt8](repeating: 0xee, count: capacity)
    let n = offender.withUnsafeBytes { source in
      out.withUnsafeMutableBytes { dest in
        NetUnreachable.build(
          offender: source.baseAddress!, length: source.count, tunAddress: tun,
          into: dest.baseAddress!, capacity: capacity)
      }
    }
    return Array(out.prefix(n))
  }

  /// Byte for byte what flannel's proxy writes for a UDP packet 10.1.1.2 → 10.1.99.1 when its
  /// tun_ip is 10.1.1.0.
  @Test func replyMatchesHandBuiltPacket() {
    let offender = IPv4Fields(
      identification: 0x1234, flagsAndFragment: 0x4000, ttl: 63, proto: 17,
      source: 0x0a01_0102, destination: 0x0a01_6301, payload: Array(0..<16)
    ).bytes
    var expected: [UInt8] = [
      0x45, 0x00, 0x00, 0x38,  // v4 IHL 5, TOS 0, total 56
      0x00, 0x00, 0x00, 0x00,  // ID 0, no fragment bits
      0x08, 0x01, 0x9c, 0xc2,  // TTL 8, ICMP, header checksum (worked out by hand)
      0x0a, 0x01, 0x01, 0x00,  // src = tun IP 10.1.1.0
      0x0a, 0x01, 0x01, 0x02,  // dst = offender's source
      0x03, 0x00, 0x00, 0x00,  // type 3 code 0, checksum filled below
      0x00, 0x00, 0x00, 0x00,  // unused
    ]
    expected += offender[0..<20] + offender[20..<28]
    put16(&expected, 22, referenceChecksum(expected[20...]))
    #expect(build(offender) == expected)
    #expect(referenceChecksum(expected[0..<20]) == 0)
  }

  @Test func optionsAreQuotedWholeAndTinyPayloadIsZeroPadded() {
    let offender = IPv4Fields(ihl: 14, proto: 6, payload: [9, 9, 9]).bytes
    let reply = build(offender)
    #expect(reply.count == 20 + 8 + 56 + 8)
    #expect(Array(reply[28..<28 + 59]) == offender)
    #expect(Array(reply[28 + 59..<reply.count]) == [0, 0, 0, 0, 0])
    #expect(referenceChecksum(reply[20...]) == 0)
  }

  @Test(arguments: [
    ("ICMP unreachable offender", IPv4Fields(proto: 1, payload: [3, 0] + Array(2..<16)).bytes),
    ("ICMP time exceeded offender", IPv4Fields(proto: 1, payload: [11, 0] + Array(2..<16)).bytes),
    ("ICMP without its type byte", IPv4Fields(proto: 1, payload: []).bytes),
    ("non-first fragment", IPv4Fields(flagsAndFragment: 0x0001).bytes),
    ("non-first last fragment", IPv4Fields(flagsAndFragment: 0x00b9).bytes),
    ("IHL 15", IPv4Fields(ihl: 15).bytes),
    ("not IPv4", [0x60] + [UInt8](repeating: 0, count: 47)),
    ("short", [0x45, 0, 0]),
  ])
  func noReply(name: String, offender: [UInt8]) {
    #expect(build(offender).isEmpty, "\(name)")
  }

  @Test func anICMPEchoRequestIsAnswered() {
    let offender = IPv4Fields(proto: 1, payload: [8, 0] + Array(2..<16)).bytes
    let reply = build(offender)
    #expect(reply.count == 56)
    #expect(Array(reply[28..<56]) == Array(offender[0..<28]))
  }

  @Test func firstFragmentWithMoreFragmentsIsAnswered() {
    #expect(build(IPv4Fields(flagsAndFragment: 0x2000).bytes).count == 56)
  }

  @Test func tooSmallOutputIsRefused() {
    #expect(build(IPv4Fields().bytes, capacity: 55).isEmpty)
    #expect(NetUnreachable.maximumLength == 92)
  }
}
