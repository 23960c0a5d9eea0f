import Testing

@testable import DataPlane

/// IPv6 header checks, the extension-header walk and the hop limit, on hand-built bytes.
@Suite struct IPv6PacketTests {
  func check(_ bytes: [UInt8], length: Int? = nil) -> PacketVerdict {
    bytes.withUnsafeBytes { IPv6Packet.check($0.baseAddress!, length: length ?? bytes.count) }
  }

  /// An extension header: next header, its length field, and `size` bytes in all.
  static func extensionHeader(next: UInt8, size: Int) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: size)
    header[0] = next
    header[1] = UInt8(size / 8 - 1)
    return header
  }

  @Test func aPlainPacketPasses() {
    #expect(check(IPv6Fields().bytes) == .forward)
    #expect(check(IPv6Fields(nextHeader: 59, payload: []).bytes) == .forward, "no next header")
  }

  @Test(arguments: [
    ("shorter than 40 bytes", Array(IPv6Fields().bytes.prefix(39)), PacketVerdict.malformedIPv6),
    ("payload length past the end", IPv6Fields(payloadLength: 17).bytes, .malformedIPv6),
    (
      "jumbogram (payload length 0, hop-by-hop)",
      IPv6Fields(nextHeader: 0, payloadLength: 0).bytes, .malformedIPv6
    ),
    ("version 5", [0x50] + IPv6Fields().bytes.dropFirst(), .notIPv4),
    (
      "hop-by-hop header cut short",
      IPv6Fields(nextHeader: 0, payload: [17, 1, 0, 0, 0, 0, 0, 0]).bytes, .malformedIPv6
    ),
    (
      "routing header past the payload length",
      IPv6Fields(
        nextHeader: 43, payload: extensionHeader(next: 6, size: 16), payloadLength: 8
      ).bytes, .malformedIPv6
    ),
    (
      "fragment header of 4 bytes", IPv6Fields(nextHeader: 44, payload: [17, 0, 0, 0]).bytes,
      .malformedIPv6
    ),
  ])
  func malformedPacketsAreRefused(name: String, bytes: [UInt8], verdict: PacketVerdict) {
    #expect(check(bytes) == verdict, "\(name)")
  }

  @Test func extensionHeadersAreWalkedToTheUpperLayer() throws {
    let chain =
      Self.extensionHeader(next: 60, size: 8) + Self.extensionHeader(next: 43, size: 24)
      + Self.extensionHeader(next: 58, size: 16) + [128, 0, 0, 0]
    let packet = IPv6Fields(nextHeader: 0, payload: chain).bytes
    #expect(check(packet) == .forward)
    let upper = packet.withUnsafeBytes {
      IPv6Packet.upperLayer($0.baseAddress!, end: packet.count)
    }
    #expect(upper == .init(protocolNumber: 58, offset: 40 + 48, laterFragment: false))
  }

  @Test func aLaterFragmentStopsTheWalk() {
    // Fragment header: next 17, offset 185 (× 8 bytes), no upper-layer header behind it.
    let packet = IPv6Fields(nextHeader: 44, payload: [17, 0, 0x05, 0xc8, 0, 0, 0, 1, 9, 9]).bytes
    let upper = packet.withUnsafeBytes {
      IPv6Packet.upperLayer($0.baseAddress!, end: packet.count)
    }
    #expect(upper == .init(protocolNumber: 17, offset: 48, laterFragment: true))
    #expect(check(packet) == .forward)
  }

  @Test func moreThanSixteenExtensionHeadersAreRefused() {
    func chain(_ count: Int) -> [UInt8] {
      (1..<count).flatMap { _ in Self.extensionHeader(next: 60, size: 8) }
        + Self.extensionHeader(next: 59, size: 8)
    }
    #expect(check(IPv6Fields(nextHeader: 60, payload: chain(16)).bytes) == .forward)
    #expect(check(IPv6Fields(nextHeader: 60, payload: chain(17)).bytes) == .malformedIPv6)
  }

  @Test func hopLimitIsDecrementedAndExpiresAtOne() {
    var packet = IPv6Fields(hopLimit: 2).bytes
    let verdict = packet.withUnsafeMutableBytes { IPv6Packet.decrementHopLimit($0.baseAddress!) }
    #expect(verdict == .forward)
    #expect(packet[7] == 1)
    let before = packet
    for hopLimit: UInt8 in [1, 0] {
      packet[7] = hopLimit
      let expired = packet.withUnsafeMutableBytes {
        IPv6Packet.decrementHopLimit($0.baseAddress!)
      }
      #expect(expired == .hopLimitExpired)
      #expect(packet[7] == hopLimit, "left unchanged")
    }
    #expect(Array(before[8...]) == Array(packet[8...]))
  }

  @Test func addressesAreReadAsTwoHalves() {
    let packet = IPv6Fields().bytes
    packet.withUnsafeBytes {
      #expect(IPv6Packet.sourceHigh($0.baseAddress!) == 0xfd10_0000_0000_0001)
      #expect(IPv6Packet.sourceLow($0.baseAddress!) == 2)
      #expect(IPv6Packet.destinationHigh($0.baseAddress!) == 0xfd10_0000_0000_0002)
      #expect(IPv6Packet.destinationLow($0.baseAddress!) == 5)
    }
  }
}
