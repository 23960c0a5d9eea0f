@testable import WireGuard

/// Two parties with fixed keys (RFC 7748 §6.1's Alice as initiator, Bob as responder) and
/// helpers that run the handshake steps over byte arrays.
struct HandshakeFixture {
  static let initiatorPrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
  static let responderPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
  static let initiatorEphemeral = "c0ffee0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
  static let responderEphemeral = "d00d1e0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"

  let initiatorIdentity: StaticIdentity
  let responderIdentity: StaticIdentity
  /// The initiator's handshake with the responder.
  let initiator: PeerHandshake
  /// The responder's handshake with the initiator.
  let responder: PeerHandshake

  init(initiatorPSK: SecretKey? = nil, responderPSK: SecretKey? = nil) throws {
    initiatorIdentity = StaticIdentity(privateKey: try SecretKey(bytes: hex(Self.initiatorPrivate)))
    responderIdentity = StaticIdentity(privateKey: try SecretKey(bytes: hex(Self.responderPrivate)))
    initiator = try PeerHandshake(
      identity: initiatorIdentity, remoteStatic: responderIdentity.publicKey,
      presharedKey: initiatorPSK)
    responder = try PeerHandshake(
      identity: responderIdentity, remoteStatic: initiatorIdentity.publicKey,
      presharedKey: responderPSK)
  }

  static func key(_ text: String) -> SecretKey { try! SecretKey(bytes: hex(text)) }

  static func initiation(
    from peer: PeerHandshake, index: UInt32 = 0x1122_3344,
    ephemeral: SecretKey? = HandshakeFixture.key(HandshakeFixture.initiatorEphemeral),
    timestamp: TAI64N = TAI64N(unixSeconds: 1_800_000_000, nanoseconds: 0),
    now: Duration = .seconds(1000)
  ) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0xee, count: 148)
    try buffer.withUnsafeMutableBytes {
      try peer.createInitiation(
        into: $0, localIndex: index, ephemeral: ephemeral, timestamp: timestamp, now: now)
    }
    return buffer
  }

  static func decrypt(_ message: [UInt8], by identity: StaticIdentity) throws
    -> ReceivedInitiation
  {
    try message.withUnsafeBytes { try identity.decryptInitiation($0) }
  }

  static func response(
    from peer: PeerHandshake, index: UInt32 = 0x5566_7788,
    ephemeral: SecretKey? = HandshakeFixture.key(HandshakeFixture.responderEphemeral),
    now: Duration = .seconds(1000)
  ) throws -> ([UInt8], TransportKeys) {
    var buffer = [UInt8](repeating: 0xee, count: 92)
    let keys = try buffer.withUnsafeMutableBytes {
      try peer.createResponse(into: $0, localIndex: index, ephemeral: ephemeral, now: now)
    }
    return (buffer, keys)
  }

  static func consume(
    _ response: [UInt8], by peer: PeerHandshake, now: Duration = .seconds(1000)
  ) throws -> TransportKeys {
    try response.withUnsafeBytes { try peer.consumeResponse($0, now: now) }
  }

  /// Runs all four steps; returns (initiator's keys, responder's keys).
  func completeHandshake(now: Duration = .seconds(1000)) throws -> (
    TransportKeys, TransportKeys
  ) {
    let initiation = try Self.initiation(from: initiator, now: now)
    let received = try Self.decrypt(initiation, by: responderIdentity)
    try responder.consumeInitiation(received, now: now)
    let (response, responderKeys) = try Self.response(from: responder, now: now)
    return (try Self.consume(response, by: initiator), responderKeys)
  }
}

func keyBytes(_ key: SecretKey) -> [UInt8] {
  key.withUnsafeBytes { Array($0) }
}

/// Seals `plaintext` with `sender` and opens it with `receiver`: the plaintext back, or nil.
func transport(
  _ plaintext: [UInt8], from sender: ChaCha20Poly1305Key, to receiver: ChaCha20Poly1305Key,
  counter: UInt64
)
  -> [UInt8]?
{
  var buffer = plaintext + [UInt8](repeating: 0, count: 16)
  guard
    buffer.withUnsafeMutableBytes({
      sender.seal($0, plaintextCount: plaintext.count, counter: counter)
    })
  else { return nil }
  guard buffer.withUnsafeMutableBytes({ receiver.open($0, counter: counter) }) else { return nil }
  return Array(buffer.prefix(plaintext.count))
}
