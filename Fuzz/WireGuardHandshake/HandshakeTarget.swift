@testable import WireGuard

/// The handshake's readers of datagrams from the network (`StaticIdentity.decryptInitiation`,
/// `PeerHandshake.consumeResponse`, `CookieGenerator.consumeReply`, `CookieChecker.checkMAC2`)
/// and the key text reader (`PublicKey(base64:)`), on arbitrary bytes and on real messages
/// with input-chosen fields and one input-chosen bit flipped.
///
/// Properties: arbitrary bytes never crash and never pass (a random body behind a valid
/// mac1 does not decrypt); a real handshake built from the input completes with matching
/// keys; a flipped bit anywhere before mac2 is refused; a key that decodes re-encodes to
/// text that decodes to the same key.
enum WireGuardHandshakeTarget: ParserTarget {
  static let name = "wghandshake"
  static let requiredChecks = [
    "raw initiation refused", "raw initiation behind valid mac1 refused",
    "raw response refused", "raw cookie reply refused", "handshake completed",
    "flipped initiation bit refused", "flipped response bit refused", "key text round trip",
  ]

  /// Fixed identities: every run pays two X25519 key set-ups, not more.
  static let initiatorIdentity = StaticIdentity(
    privateKey: try! SecretKey(bytes: [UInt8](repeating: 0x11, count: 32)))
  static let responderIdentity = StaticIdentity(
    privateKey: try! SecretKey(bytes: [UInt8](repeating: 0x22, count: 32)))

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = UnsafeRawBufferPointer(bytes)
    rawMessages(raw)
    if let key = try? PublicKey(base64: text(bytes)) {
      let again = try? PublicKey(base64: key.base64)
      require(again == key, "key \(key.base64) does not read back")
      Checks.count("key text round trip")
    }
    // A full handshake costs about ten X25519 operations: one input in eight builds one, so
    // that the target's runs fit the same budget as the others.
    var input = FuzzInput(bytes)
    if input.byte() & 7 == 1 { generatedHandshake(&input) }
  }

  /// An initiator with an initiation sent, never completed (a refused response leaves it
  /// pending), shared by every run.
  nonisolated(unsafe) static let pendingInitiator: PeerHandshake = {
    let peer = try! PeerHandshake(
      identity: initiatorIdentity, remoteStatic: responderIdentity.publicKey)
    var scratch = [UInt8](repeating: 0, count: 148)
    scratch.withUnsafeMutableBytes {
      try! peer.createInitiation(into: $0, localIndex: 7, now: .zero)
    }
    return peer
  }()

  /// The input itself as each message type (its first 148 / 92 / 64 bytes, or all of it).
  static func rawMessages(_ raw: UnsafeRawBufferPointer) {
    let initiation = Array(raw.prefix(148))
    let received = initiation.withUnsafeBytes { try? responderIdentity.decryptInitiation($0) }
    require(received == nil, "arbitrary bytes accepted as an initiation")
    Checks.count("raw initiation refused")

    if initiation.count == 148 {
      var withMAC1 = initiation
      withMAC1[0...3] = [1, 0, 0, 0]
      withMAC1.withUnsafeMutableBytes {
        CookieGenerator(remoteStatic: responderIdentity.publicKey).addMACs(to: $0, now: .zero)
      }
      let accepted = withMAC1.withUnsafeBytes { try? responderIdentity.decryptInitiation($0) }
      require(accepted == nil, "a random initiation body behind a valid mac1 decrypted")
      Checks.count("raw initiation behind valid mac1 refused")
    }

    let peer = pendingInitiator
    let response = Array(raw.prefix(92))
    let keys = response.withUnsafeBytes { try? peer.consumeResponse($0, now: .zero) }
    require(keys == nil, "arbitrary bytes accepted as a response")
    Checks.count("raw response refused")

    let reply = Array(raw.prefix(64))
    require(
      !reply.withUnsafeBytes { peer.cookies.consumeReply($0, now: .zero) },
      "arbitrary bytes accepted as a cookie reply")
    let checker = CookieChecker(identity: responderIdentity)
    require(
      !initiation.withUnsafeBytes {
        checker.checkMAC2($0, source: [127, 0, 0, 1, 0, 1], now: .zero)
      },
      "mac2 accepted with no cookie secret")
    var cookieReply = [UInt8](repeating: 0, count: 64)
    let answered = cookieReply.withUnsafeMutableBytes { out in
      initiation.withUnsafeBytes {
        (try? checker.makeReply(into: out, for: $0, source: [127, 0, 0, 1, 0, 1], now: .zero))
          != nil
      }
    }
    require(!answered, "cookie reply made for a message without a valid mac1")
    Checks.count("raw cookie reply refused")
  }

  /// A real handshake with input-chosen indices, ephemerals and timestamp; then one bit of
  /// each message flipped.
  static func generatedHandshake(_ input: inout FuzzInput) {
    let initiator = try! PeerHandshake(
      identity: initiatorIdentity, remoteStatic: responderIdentity.publicKey)
    let responder = try! PeerHandshake(
      identity: responderIdentity, remoteStatic: initiatorIdentity.publicKey)
    let initiatorIndex = input.u32()
    let responderIndex = input.u32()
    let initiatorEphemeral = try! SecretKey(bytes: (0..<32).map { _ in input.byte() })
    let responderEphemeral = try! SecretKey(bytes: (0..<32).map { _ in input.byte() })
    let stamp = TAI64N(unixSeconds: Int64(input.u32()), nanoseconds: input.u32())
    let initiationBit = Int(input.u16()) % (132 * 8)
    let responseBit = Int(input.u16()) % (76 * 8)

    var initiation = [UInt8](repeating: 0, count: 148)
    do {
      try initiation.withUnsafeMutableBytes {
        try initiator.createInitiation(
          into: $0, localIndex: initiatorIndex, ephemeral: initiatorEphemeral, timestamp: stamp,
          now: .zero)
      }
    } catch {
      // A low-order ephemeral public key is possible in principle; nothing to check then.
      require(
        (error as? HandshakeError) == .invalidPublicKey, "initiation failed: \(error)")
      return
    }
    var flipped = initiation
    flipped[initiationBit / 8] ^= 1 << UInt8(initiationBit % 8)
    require(
      (flipped.withUnsafeBytes { try? responderIdentity.decryptInitiation($0) }) == nil,
      "initiation with bit \(initiationBit) flipped accepted")
    Checks.count("flipped initiation bit refused")

    var response = [UInt8](repeating: 0, count: 92)
    let responderKeys: TransportKeys
    do {
      let received = try initiation.withUnsafeBytes { try responderIdentity.decryptInitiation($0) }
      try responder.consumeInitiation(received, now: .zero)
      responderKeys = try response.withUnsafeMutableBytes {
        try responder.createResponse(
          into: $0, localIndex: responderIndex, ephemeral: responderEphemeral, now: .zero)
      }
    } catch {
      require(
        (error as? HandshakeError) == .invalidPublicKey,
        "responder refused a real initiation: \(error)")
      return
    }
    var flippedResponse = response
    flippedResponse[responseBit / 8] ^= 1 << UInt8(responseBit % 8)
    require(
      (flippedResponse.withUnsafeBytes { try? initiator.consumeResponse($0, now: .zero) }) == nil,
      "response with bit \(responseBit) flipped accepted")
    Checks.count("flipped response bit refused")

    let initiatorKeys: TransportKeys
    do {
      initiatorKeys = try response.withUnsafeBytes { try initiator.consumeResponse($0, now: .zero) }
    } catch {
      fatalError("property failed: initiator refused a real response: \(error)")
    }
    let sent = initiatorKeys.sendingKey.withUnsafeBytes { Array($0) }
    let opened = responderKeys.receivingKey.withUnsafeBytes { Array($0) }
    require(sent == opened, "initiator's sending key is not the responder's receiving key")
    require(
      initiatorKeys.remoteIndex == responderIndex && responderKeys.remoteIndex == initiatorIndex,
      "indices crossed wrongly")
    Checks.count("handshake completed")
  }
}
