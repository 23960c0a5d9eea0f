import Testing

@testable import WireGuard

/// Whatever arrives, `HandshakeDevice.receive` drops what fails a check, counts it under one
/// reason, and answers nothing.
@Suite struct HandshakeDeviceDropTests {
  static let t0 = Duration.seconds(1000)

  /// A third party, C, that knows B but B does not know.
  static func stranger(of pair: DevicePair) -> TestDevice {
    let c = TestDevice(
      privateKey: "a8abababababababababababababababababababababababababababababab6b",
      endpoint: Endpoint(address: 0x0a00_0003, port: 51820), indexBase: 0x3000)
    _ = c.device.setPeers([pair.b.config()], now: t0)
    return c
  }

  /// Builds a datagram for B (or A) from a configured pair; `to` says which side gets it.
  struct Case: CustomStringConvertible, Sendable {
    let name: String
    let reason: HandshakeDropReason
    let toA: Bool
    let make: @Sendable (DevicePair) throws -> [UInt8]
    var description: String { name }
  }

  static func initiation(_ pair: DevicePair) throws -> [UInt8] {
    try #require(sent(pair.a.device.sendRequested(peer: pair.b.publicKey, now: t0)).first)
  }

  static let cases: [Case] = [
    Case(name: "empty datagram", reason: .malformed, toA: false) { _ in [] },
    Case(name: "unknown type", reason: .malformed, toA: false) { _ in [9, 0, 0, 0, 1, 2] },
    Case(name: "initiation one byte short", reason: .malformed, toA: false) {
      Array(try initiation($0).dropLast())
    },
    Case(name: "reserved byte set", reason: .malformed, toA: false) {
      var message = try initiation($0)
      message[2] = 1
      return message
    },
    Case(name: "transport message", reason: .transportData, toA: false) { _ in
      [4, 0, 0, 0] + [UInt8](repeating: 7, count: 28)
    },
    Case(name: "initiation with an altered body", reason: .badMAC1, toA: false) {
      var message = try initiation($0)
      message[60] ^= 0x10
      return message
    },
    Case(name: "initiation from an unknown key", reason: .unknownPeer, toA: false) {
      try #require(
        sent(stranger(of: $0).device.sendRequested(peer: $0.b.publicKey, now: t0)).first)
    },
    Case(name: "response to no initiation of ours", reason: .unknownIndex, toA: true) {
      let message = try initiation($0)
      let response = try #require(
        sent($0.b.device.receive(message, from: $0.a.endpoint, now: t0, underLoad: false))
          .first)
      // The first copy completes the handshake; the repeated one finds no initiation.
      _ = $0.a.device.receive(response, from: $0.b.endpoint, now: t0, underLoad: false)
      return response
    },
    Case(name: "cookie reply to an unknown index", reason: .unknownIndex, toA: true) { _ in
      [3, 0, 0, 0, 0xde, 0xad, 0, 0] + [UInt8](repeating: 1, count: 56)
    },
    Case(name: "cookie reply that does not decrypt", reason: .invalidCookieReply, toA: true) {
      let index = senderIndex(try initiation($0))
      return [3, 0, 0, 0] + withUnsafeBytes(of: index.littleEndian) { Array($0) }
        + [UInt8](repeating: 1, count: 56)
    },
  ]

  static func senderIndex(_ message: [UInt8]) -> UInt32 {
    message.withUnsafeBytes { $0.readUInt32LE(at: 4) }
  }

  @Test(arguments: cases)
  func droppedAndCounted(_ test: Case) throws {
    let pair = DevicePair()
    let datagram = try test.make(pair)
    let receiver = test.toA ? pair.a : pair.b
    let source = test.toA ? DevicePair.endpointB : DevicePair.endpointA
    let before = receiver.device.counters
    let outputs = receiver.device.receive(datagram, from: source, now: Self.t0, underLoad: false)
    #expect(outputs.isEmpty)
    #expect(receiver.device.counters[dropped: test.reason] == before[dropped: test.reason] + 1)
    #expect(receiver.device.counters.totalDrops == before.totalDrops + 1)
  }

  @Test func replayedInitiationIsRefusedByItsTimestamp() throws {
    let pair = DevicePair()
    let message = try Self.initiation(pair)
    let first = pair.b.device.receive(
      message, from: DevicePair.endpointA, now: Self.t0, underLoad: false)
    #expect(sent(first).count == 1)
    let again = pair.b.device.receive(
      message, from: DevicePair.endpointA, now: Self.t0 + .seconds(1), underLoad: false)
    #expect(again.isEmpty)
    #expect(pair.b.device.counters[dropped: .replayedTimestamp] == 1)
  }

  @Test func initiationsTwentyMillisecondsApartAreRefusedAsAFlood() throws {
    let pair = DevicePair()
    let handshake = try PeerHandshake(identity: pair.a.identity, remoteStatic: pair.b.publicKey)
    let first = try HandshakeFixture.initiation(
      from: handshake, ephemeral: nil, timestamp: TAI64N(unixSeconds: 1_900_000_000, nanoseconds: 0)
    )
    let second = try HandshakeFixture.initiation(
      from: handshake, ephemeral: nil, timestamp: TAI64N(unixSeconds: 1_900_000_001, nanoseconds: 0)
    )
    _ = pair.b.device.receive(first, from: DevicePair.endpointA, now: Self.t0, underLoad: false)
    let flood = pair.b.device.receive(
      second, from: DevicePair.endpointA, now: Self.t0 + .milliseconds(20), underLoad: false)
    #expect(flood.isEmpty)
    #expect(pair.b.device.counters[dropped: .initiationFlood] == 1)
  }

  @Test func responseMadeWithAnotherPresharedKeyDoesNotDecrypt() throws {
    let pair = DevicePair()
    let psk = HandshakeFixture.key(String(repeating: "42", count: 32))
    _ = pair.a.device.setPeers([pair.b.config(psk: psk)], now: Self.t0)
    let message = try Self.initiation(pair)
    let response = try #require(
      sent(
        pair.b.device.receive(message, from: DevicePair.endpointA, now: Self.t0, underLoad: false)
      )
      .first)
    let outputs = pair.a.device.receive(
      response, from: DevicePair.endpointB, now: Self.t0, underLoad: false)
    #expect(outputs.isEmpty)
    #expect(pair.a.device.counters[dropped: .decryptionFailed] == 1)
    #expect(pair.a.device.peerStatus(pair.b.publicKey)?.initiationPending == true)
  }

  @Test func underLoadABadMAC1IsDroppedNotAnsweredWithACookie() throws {
    let pair = DevicePair()
    var message = try Self.initiation(pair)
    message[120] ^= 1
    let outputs = pair.b.device.receive(
      message, from: DevicePair.endpointA, now: Self.t0, underLoad: true)
    #expect(outputs.isEmpty)
    #expect(pair.b.device.counters[dropped: .badMAC1] == 1)
    #expect(pair.b.device.counters.cookieRepliesSent == 0)
  }
}
