import Testing

@testable import DataPlane

/// The ICMPv6 destination unreachable (no route) the forwarder answers with, against
/// hand-checked fields and a naive checksum over the pseudo-header.
@Suite struct NoRouteICMPv6Tests {
  /// flannel0's IPv6 address in the tests: fd10:0:0:1:: (the lease subnet's address).
  static let tunHigh: UInt64 = 0xfd10_0000_0000_0001

  func build(_ offender: [UInt8], capacity: Int = 128) -> [UInt8] {
    var output = [UInt8](repeating: 0xee, count: capacity)
    let length = offender.withUnsafeBytes { input in
      output.withUnsafeMutableBytes {
        NoRouteICMPv6.build(
          offender: input.baseAddress!, length: offender.count, tunHigh: Self.tunHigh, tunLow: 0,
          into: $0.baseAddress!, capacity: capacity)
      }
    }
    return Array(output.prefix(length))
  }

  @Test func replyFieldsAndChecksum() {
    let offender = IPv6Fields(
      source: ipv6Bytes(0xfd10_0000_0000_0001, 2), destination: ipv6Bytes(0xfd10_0000_0000_0063, 1),
      payload: Array(0..<100)
    ).bytes
    let reply = build(offender)
    #expect(reply.count == 40 + 8 + 48)
    #expect(reply[0] == 0x60 && reply[1] == 0 && reply[2] == 0 && reply[3] == 0)
    #expect(get16(reply, 4) == 56, "payload length: ICMPv6 header + quote")
    #expect(reply[6] == 58, "next header ICMPv6")
    #expect(reply[7] == 64)
    #expect(Array(reply[8..<24]) == ipv6Bytes(Self.tunHigh, 0), "from flannel0's address")
    #expect(Array(reply[24..<40]) == Array(offender[8..<24]), "to the offender's source")
    #expect(reply[40] == 1 && reply[41] == 0, "destination unreachable, no route")
    #expect(Array(reply[44..<48]) == [0, 0, 0, 0])
    #expect(Array(reply[48...]) == Array(offender.prefix(48)), "header + 8 bytes quoted")
    #expect(referenceIPv6Checksum(reply, upperLayerAt: 40, protocol: 58) == 0)
  }

  @Test func aShortOffenderIsQuotedWhole() {
    let offender = IPv6Fields(nextHeader: 58, payload: [128, 0, 0x12, 0x34]).bytes
    let reply = build(offender)
    #expect(reply.count == 40 + 8 + 44)
    #expect(Array(reply[48...]) == offender)
    #expect(referenceIPv6Checksum(reply, upperLayerAt: 40, protocol: 58) == 0)
  }

  @Test(arguments: Array(UInt8(0)...UInt8(127)))
  func icmpv6ErrorsAreNeverAnswered(type: UInt8) {
    #expect(build(IPv6Fields(nextHeader: 58, payload: [type, 0, 0, 0, 0, 0, 0, 0]).bytes).isEmpty)
  }

  @Test func anEchoRequestIsAnsweredAlsoBehindExtensionHeaders() {
    #expect(!build(IPv6Fields(nextHeader: 58, payload: [128, 0, 0, 0]).bytes).isEmpty)
    let behind = IPv6Packet.destinationOptions
    let options = IPv6PacketTests.extensionHeader(next: 58, size: 8)
    #expect(
      !build(IPv6Fields(nextHeader: behind, payload: options + [128, 0, 0, 0]).bytes).isEmpty)
    #expect(build(IPv6Fields(nextHeader: behind, payload: options + [3, 0, 0, 0]).bytes).isEmpty)
  }

  @Test(arguments: [
    (
      "multicast destination (a router solicitation)",
      IPv6Fields(destination: ipv6Bytes(0xff02_0000_0000_0000, 2), payload: [133, 0, 0, 0])
    ),
    ("unspecified source", IPv6Fields(source: ipv6Bytes(0, 0))),
    ("multicast source", IPv6Fields(source: ipv6Bytes(0xff05_0000_0000_0000, 1))),
    ("truncated ICMPv6", IPv6Fields(nextHeader: 58, payload: [])),
    (
      "later fragment",
      IPv6Fields(nextHeader: 44, payload: [17, 0, 0x05, 0xc8, 0, 0, 0, 1, 9, 9])
    ),
    ("malformed", IPv6Fields(payloadLength: 200)),
  ])
  func noReplyIsDue(name: String, fields: IPv6Fields) {
    #expect(build(fields.bytes).isEmpty, "\(name)")
  }

  @Test func tooSmallOutputIsRefused() {
    #expect(build(IPv6Fields(payload: Array(0..<100)).bytes, capacity: 95).isEmpty)
    #expect(build(IPv6Fields(payload: Array(0..<100)).bytes, capacity: 96).count == 96)
  }
}
