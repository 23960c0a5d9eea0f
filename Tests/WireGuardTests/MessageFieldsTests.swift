import Testing
import WireGuard

/// Each field read from and written to its place: a datagram whose byte i is i & 0xff (the
/// header aside), so every slice can be checked against the offsets of the protocol page.
@Suite struct MessageFieldsTests {
  static func numbered(_ type: UInt8, count: Int) -> [UInt8] {
    var bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0) }
    bytes[0] = type
    bytes[1] = 0
    bytes[2] = 0
    bytes[3] = 0
    return bytes
  }

  /// The bytes a slice covers, and where it starts relative to the whole buffer.
  static func span(_ slice: UnsafeRawBufferPointer, in whole: UnsafeRawBufferPointer) -> Range<Int>
  {
    let start = slice.baseAddress! - whole.baseAddress!
    return start..<start + slice.count
  }

  @Test func initiationFields() {
    Self.numbered(1, count: 148).withUnsafeBytes { bytes in
      let message = HandshakeInitiationMessage(bytes)!
      #expect(message.senderIndex == 0x0706_0504)
      #expect(Self.span(message.unencryptedEphemeral, in: bytes) == 8..<40)
      #expect(Self.span(message.encryptedStatic, in: bytes) == 40..<88)
      #expect(Self.span(message.encryptedTimestamp, in: bytes) == 88..<116)
      #expect(Self.span(message.mac1, in: bytes) == 116..<132)
      #expect(Self.span(message.mac2, in: bytes) == 132..<148)
      #expect(Self.span(message.coveredByMAC1, in: bytes) == 0..<116)
      #expect(Self.span(message.coveredByMAC2, in: bytes) == 0..<132)
      #expect(Array(message.mac2) == Array(132..<148).map { UInt8($0) })
    }
  }

  @Test func responseFields() {
    Self.numbered(2, count: 92).withUnsafeBytes { bytes in
      let message = HandshakeResponseMessage(bytes)!
      #expect(message.senderIndex == 0x0706_0504)
      #expect(message.receiverIndex == 0x0b0a_0908)
      #expect(Self.span(message.unencryptedEphemeral, in: bytes) == 12..<44)
      #expect(Self.span(message.encryptedNothing, in: bytes) == 44..<60)
      #expect(Self.span(message.mac1, in: bytes) == 60..<76)
      #expect(Self.span(message.mac2, in: bytes) == 76..<92)
      #expect(Self.span(message.coveredByMAC1, in: bytes) == 0..<60)
      #expect(Self.span(message.coveredByMAC2, in: bytes) == 0..<76)
    }
  }

  @Test func cookieReplyFields() {
    Self.numbered(3, count: 64).withUnsafeBytes { bytes in
      let message = CookieReplyMessage(bytes)!
      #expect(message.receiverIndex == 0x0706_0504)
      #expect(Self.span(message.nonce, in: bytes) == 8..<32)
      #expect(Self.span(message.encryptedCookie, in: bytes) == 32..<64)
    }
  }

  @Test(arguments: [32, 33, 48, 1500])
  func transportFields(count: Int) {
    Self.numbered(4, count: count).withUnsafeBytes { bytes in
      let message = TransportMessage(bytes)!
      #expect(message.receiverIndex == 0x0706_0504)
      #expect(message.counter == 0x0f0e_0d0c_0b0a_0908)
      #expect(message.payloadRange == 16..<count)
      #expect(Self.span(message.sealedPayload, in: bytes) == 16..<count)
      #expect(message.plaintextLength == count - 32)
      #expect(message.isKeepalive == (count == 32))
    }
  }

  @Test func transportHeaderWriterRoundTrips() {
    var buffer = [UInt8](repeating: 0xEE, count: 64)
    let written = buffer.withUnsafeMutableBytes {
      TransportMessage.writeHeader(
        into: $0, receiverIndex: 0xdead_beef, counter: 0x0102_0304_0506_0708)
    }
    #expect(written)
    #expect(
      Array(buffer[0..<16]) == [
        4, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
      ])
    #expect(buffer[16...].allSatisfy { $0 == 0xEE })
    buffer.withUnsafeBytes { bytes in
      let message = TransportMessage(bytes)!
      #expect(message.receiverIndex == 0xdead_beef && message.counter == 0x0102_0304_0506_0708)
    }
    var short = [UInt8](repeating: 0xEE, count: 15)
    #expect(
      !short.withUnsafeMutableBytes {
        TransportMessage.writeHeader(into: $0, receiverIndex: 1, counter: 1)
      })
    #expect(short.allSatisfy { $0 == 0xEE })
  }

  @Test func handshakeWritersSetHeaderAndIndicesAndExposeTheirFields() {
    var initiation = [UInt8](repeating: 0xEE, count: 148)
    initiation.withUnsafeMutableBytes { buffer in
      let writer = HandshakeInitiationWriter(into: buffer, senderIndex: 0x1122_3344)!
      writer.unencryptedEphemeral.initializeMemory(as: UInt8.self, repeating: 1)
      writer.encryptedStatic.initializeMemory(as: UInt8.self, repeating: 2)
      writer.encryptedTimestamp.initializeMemory(as: UInt8.self, repeating: 3)
      writer.mac1.initializeMemory(as: UInt8.self, repeating: 4)
      writer.mac2.initializeMemory(as: UInt8.self, repeating: 5)
    }
    #expect(Array(initiation[0..<8]) == [1, 0, 0, 0, 0x44, 0x33, 0x22, 0x11])
    initiation.withUnsafeBytes { bytes in
      let message = HandshakeInitiationMessage(bytes)!
      #expect(message.senderIndex == 0x1122_3344)
      #expect(message.unencryptedEphemeral.allSatisfy { $0 == 1 })
      #expect(message.encryptedStatic.allSatisfy { $0 == 2 })
      #expect(message.encryptedTimestamp.allSatisfy { $0 == 3 })
      #expect(message.mac1.allSatisfy { $0 == 4 } && message.mac2.allSatisfy { $0 == 5 })
    }

    var response = [UInt8](repeating: 0xEE, count: 92)
    response.withUnsafeMutableBytes { buffer in
      let writer = HandshakeResponseWriter(into: buffer, senderIndex: 7, receiverIndex: 9)!
      writer.encryptedNothing.initializeMemory(as: UInt8.self, repeating: 6)
    }
    response.withUnsafeBytes { bytes in
      let message = HandshakeResponseMessage(bytes)!
      #expect(message.senderIndex == 7 && message.receiverIndex == 9)
      #expect(message.encryptedNothing.allSatisfy { $0 == 6 })
      #expect(message.unencryptedEphemeral.allSatisfy { $0 == 0xEE })
    }

    var cookie = [UInt8](repeating: 0xEE, count: 64)
    cookie.withUnsafeMutableBytes { buffer in
      let writer = CookieReplyWriter(into: buffer, receiverIndex: 0xabcd)!
      writer.nonce.initializeMemory(as: UInt8.self, repeating: 8)
    }
    cookie.withUnsafeBytes { bytes in
      let message = CookieReplyMessage(bytes)!
      #expect(message.receiverIndex == 0xabcd && message.nonce.allSatisfy { $0 == 8 })
      #expect(message.encryptedCookie.allSatisfy { $0 == 0xEE })
    }
  }

  @Test func writersRefuseBuffersOfTheWrongSize() {
    var bytes = [UInt8](repeating: 0, count: 149)
    bytes.withUnsafeMutableBytes { buffer in
      #expect(HandshakeInitiationWriter(into: buffer, senderIndex: 1) == nil)
      #expect(HandshakeResponseWriter(into: buffer, senderIndex: 1, receiverIndex: 2) == nil)
      #expect(CookieReplyWriter(into: buffer, receiverIndex: 1) == nil)
    }
    #expect(bytes.allSatisfy { $0 == 0 })
  }
}
