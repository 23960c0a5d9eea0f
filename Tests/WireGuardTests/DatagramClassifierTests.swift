import Testing
import WireGuard

@Suite struct DatagramClassifierTests {
  /// A datagram of `count` bytes (at least 1) with `type` and `reserved` in its header.
  static func datagram(_ type: UInt8, count: Int, reserved: [UInt8] = [0, 0, 0]) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xAB, count: count)
    if count > 0 { bytes[0] = type }
    for (i, value) in reserved.enumerated() where i + 1 < count { bytes[i + 1] = value }
    return bytes
  }

  static func classify(_ bytes: [UInt8]) -> DatagramClass {
    bytes.withUnsafeBytes { MessageType.classify($0) }
  }

  @Test(
    arguments: [
      (datagram(1, count: 148), DatagramClass.message(.handshakeInitiation)),
      (datagram(2, count: 92), .message(.handshakeResponse)),
      (datagram(3, count: 64), .message(.cookieReply)),
      (datagram(4, count: 32), .message(.transportData)),  // keepalive
      (datagram(4, count: 48), .message(.transportData)),
      (datagram(4, count: 1452), .message(.transportData)),
      // Padding stops at the MTU, so a full-size packet's payload is no multiple of 16.
      (datagram(4, count: 32 + 1419), .message(.transportData)),
      ([], .drop(.badType)),
      (datagram(0, count: 148), .drop(.badType)),
      (datagram(5, count: 32), .drop(.badType)),
      (datagram(0xff, count: 64), .drop(.badType)),
      (datagram(1, count: 1), .drop(.badSize)),
      (datagram(4, count: 3), .drop(.badSize)),
      (datagram(1, count: 147), .drop(.badSize)),
      (datagram(1, count: 149), .drop(.badSize)),
      (datagram(2, count: 148), .drop(.badSize)),
      (datagram(3, count: 92), .drop(.badSize)),
      (datagram(4, count: 31), .drop(.badSize)),
      (datagram(4, count: 16), .drop(.badSize)),
      (datagram(1, count: 148, reserved: [1, 0, 0]), .drop(.reservedNonzero)),
      (datagram(2, count: 92, reserved: [0, 0x80, 0]), .drop(.reservedNonzero)),
      (datagram(4, count: 32, reserved: [0, 0, 1]), .drop(.reservedNonzero)),
      (datagram(4, count: 4, reserved: [0, 0, 1]), .drop(.reservedNonzero)),
    ] as [([UInt8], DatagramClass)])
  func classifies(bytes: [UInt8], expected: DatagramClass) {
    #expect(Self.classify(bytes) == expected)
  }

  @Test func dropReasonsIndexAFixedCounterArrayAndHaveLabels() {
    #expect(MessageDropReason.allCases.map(\.rawValue) == [0, 1, 2])
    #expect(
      MessageDropReason.allCases.map(\.label) == ["bad_type", "bad_size", "reserved_nonzero"])
  }

  @Test func viewsExistOnlyForTheirOwnType() {
    let initiation = Self.datagram(1, count: 148)
    let transport = Self.datagram(4, count: 32)
    initiation.withUnsafeBytes { bytes in
      #expect(HandshakeInitiationMessage(bytes) != nil)
      #expect(HandshakeResponseMessage(bytes) == nil)
      #expect(CookieReplyMessage(bytes) == nil)
      #expect(TransportMessage(bytes) == nil)
    }
    transport.withUnsafeBytes { bytes in
      #expect(TransportMessage(bytes) != nil)
      #expect(HandshakeInitiationMessage(bytes) == nil)
    }
    Self.datagram(4, count: 31).withUnsafeBytes { #expect(TransportMessage($0) == nil) }
  }
}
