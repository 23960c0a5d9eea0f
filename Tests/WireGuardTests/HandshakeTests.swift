import Testing

@testable import WireGuard

@Suite struct HandshakeTests {
  @Test func initialChainingKeyIsHashOfTheConstruction() {
    // BLAKE2s-256("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"), computed once with Python 3's
    // hashlib.blake2s.
    #expect(
      NoiseConstants.initialChainingKey
        == hex("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36"))
  }

  @Test func fullHandshakeGivesMatchingKeysAndIndices() throws {
    let fixture = try HandshakeFixture()
    let (initiatorKeys, responderKeys) = try fixture.completeHandshake()
    #expect(keyBytes(initiatorKeys.sendingKey) == keyBytes(responderKeys.receivingKey))
    #expect(keyBytes(initiatorKeys.receivingKey) == keyBytes(responderKeys.sendingKey))
    #expect(keyBytes(initiatorKeys.sendingKey) != keyBytes(initiatorKeys.receivingKey))
    #expect(initiatorKeys.localIndex == 0x1122_3344 && initiatorKeys.remoteIndex == 0x5566_7788)
    #expect(responderKeys.localIndex == 0x5566_7788 && responderKeys.remoteIndex == 0x1122_3344)
    #expect(initiatorKeys.isInitiator && !responderKeys.isInitiator)
  }

  @Test func dataSealedByOneSideOpensOnTheOther() throws {
    let fixture = try HandshakeFixture()
    let (initiatorKeys, responderKeys) = try fixture.completeHandshake()
    let packet = (0..<1400).map { UInt8(truncatingIfNeeded: $0) }
    #expect(
      transport(
        packet, from: initiatorKeys.makeSealer(), to: responderKeys.makeOpener(), counter: 0)
        == packet)
    #expect(
      transport(
        packet, from: responderKeys.makeSealer(), to: initiatorKeys.makeOpener(), counter: 7)
        == packet)
    // A key of the wrong direction does not open.
    #expect(
      transport(
        packet, from: initiatorKeys.makeSealer(), to: initiatorKeys.makeOpener(), counter: 0) == nil
    )
  }

  @Test func fixedInputsGiveTheSameMessagesAndNewEphemeralsDiffer() throws {
    let fixture = try HandshakeFixture()
    let first = try HandshakeFixture.initiation(from: fixture.initiator)
    let second = try HandshakeFixture.initiation(from: fixture.initiator)
    #expect(first == second)
    let random = try HandshakeFixture.initiation(from: fixture.initiator, ephemeral: nil)
    #expect(Array(random[8..<40]) != Array(first[8..<40]))
  }

  @Test func messagesHaveTheProtocolsLayout() throws {
    let fixture = try HandshakeFixture()
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator, index: 0x0102_0304)
    #expect(initiation.count == 148)
    #expect(Array(initiation[0..<8]) == [1, 0, 0, 0, 0x04, 0x03, 0x02, 0x01])
    let ephemeral = X25519.publicKey(of: HandshakeFixture.key(HandshakeFixture.initiatorEphemeral))
    #expect(Array(initiation[8..<40]) == ephemeral.bytes)
    // No cookie held: mac2 is zero.
    #expect(Array(initiation[132..<148]) == [UInt8](repeating: 0, count: 16))
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(initiation, by: fixture.responderIdentity), now: .seconds(1000))
    let (response, _) = try HandshakeFixture.response(from: fixture.responder, index: 0x0a0b_0c0d)
    #expect(response.count == 92)
    #expect(
      Array(response[0..<12]) == [2, 0, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a, 0x04, 0x03, 0x02, 0x01])
  }

  @Test func alteredMAC1OrBodyIsRefusedBeforeAnyDecryption() throws {
    let fixture = try HandshakeFixture()
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator)
    for offset in [8, 50, 100, 116, 131] {
      var altered = initiation
      altered[offset] ^= 0x01
      #expect(throws: HandshakeError.badMAC1(.handshakeInitiation)) {
        try HandshakeFixture.decrypt(altered, by: fixture.responderIdentity)
      }
    }
    // mac2 is outside mac1: an altered mac2 alone still passes mac1.
    var altered = initiation
    altered[140] ^= 0x01
    _ = try HandshakeFixture.decrypt(altered, by: fixture.responderIdentity)
  }

  @Test func malformedInitiationsAreRefused() throws {
    let fixture = try HandshakeFixture()
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator)
    #expect(throws: HandshakeError.wrongSize(.handshakeInitiation, 147)) {
      try HandshakeFixture.decrypt(Array(initiation.dropLast()), by: fixture.responderIdentity)
    }
    var wrongType = initiation
    wrongType[2] = 1
    #expect(throws: HandshakeError.wrongHeader(.handshakeInitiation)) {
      try HandshakeFixture.decrypt(wrongType, by: fixture.responderIdentity)
    }
  }

  @Test func initiationForAnotherResponderKeyIsRefused() throws {
    let fixture = try HandshakeFixture()
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator)
    let other = StaticIdentity(privateKey: try X25519.newPrivateKey())
    // mac1 is keyed by the intended responder's public key…
    #expect(throws: HandshakeError.badMAC1(.handshakeInitiation)) {
      try HandshakeFixture.decrypt(initiation, by: other)
    }
    // …and with a mac1 made for the other key, the static key does not decrypt.
    var remacced = initiation
    let mac1 = other.mac1Key.withUnsafeBytes { key in
      remacced.withUnsafeBytes {
        Blake2s.mac(key: key, UnsafeRawBufferPointer(rebasing: $0[0..<116]))
      }
    }
    remacced.replaceSubrange(116..<132, with: mac1)
    #expect(throws: HandshakeError.decryptionFailed("initiation static key")) {
      try HandshakeFixture.decrypt(remacced, by: other)
    }
  }

  @Test func initiationFromAnUnexpectedStaticKeyIsRefusedByThePeer() throws {
    let fixture = try HandshakeFixture()
    let stranger = try PeerHandshake(
      identity: StaticIdentity(privateKey: try X25519.newPrivateKey()),
      remoteStatic: fixture.responderIdentity.publicKey)
    let received = try HandshakeFixture.decrypt(
      try HandshakeFixture.initiation(from: stranger), by: fixture.responderIdentity)
    #expect(received.initiatorStatic == stranger.identity.publicKey)
    #expect(throws: HandshakeError.wrongPeer) {
      try fixture.responder.consumeInitiation(received, now: .seconds(1000))
    }
  }

  @Test func replayedOrOlderInitiationsAreRefused() throws {
    let fixture = try HandshakeFixture()
    let start = Duration.seconds(1000)
    let stamp = TAI64N(unixSeconds: 1_800_000_000, nanoseconds: 0x0100_0000)
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator, timestamp: stamp)
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(initiation, by: fixture.responderIdentity), now: start)
    #expect(fixture.responder.lastTimestamp == stamp)
    let later = start + .seconds(1)
    // The same bytes again.
    #expect(throws: HandshakeError.replayedTimestamp) {
      try fixture.responder.consumeInitiation(
        try HandshakeFixture.decrypt(initiation, by: fixture.responderIdentity), now: later)
    }
    // A fresh initiation with an older timestamp.
    let older = try HandshakeFixture.initiation(
      from: fixture.initiator, timestamp: TAI64N(unixSeconds: 1_800_000_000, nanoseconds: 0))
    #expect(throws: HandshakeError.replayedTimestamp) {
      try fixture.responder.consumeInitiation(
        try HandshakeFixture.decrypt(older, by: fixture.responderIdentity), now: later)
    }
    // A newer one is accepted, but not within 20 ms of the last accepted.
    let newer = try HandshakeFixture.initiation(
      from: fixture.initiator, timestamp: TAI64N(unixSeconds: 1_800_000_001, nanoseconds: 0))
    #expect(throws: HandshakeError.initiationFlood) {
      try fixture.responder.consumeInitiation(
        try HandshakeFixture.decrypt(newer, by: fixture.responderIdentity),
        now: start + .milliseconds(5))
    }
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(newer, by: fixture.responderIdentity), now: later)
  }

  @Test func eachWorkerSealsAndOpensWithItsOwnContext() async throws {
    // TransportKeys crosses to the workers (it is Sendable: key material only); each worker
    // makes its own cipher contexts, so concurrent sealing shares no nonce buffer.
    let fixture = try HandshakeFixture()
    let (initiatorKeys, responderKeys) = try fixture.completeHandshake()
    #expect(initiatorKeys.makeSealer() !== initiatorKeys.makeSealer())
    let results = await withTaskGroup(of: (sealed: Int, opened: Int).self) { group in
      for worker in 0..<4 {
        group.addTask {
          let sealer = initiatorKeys.makeSealer()
          let opener = responderKeys.makeOpener()
          let packet = [UInt8](repeating: UInt8(worker), count: 1400)
          var buffer = packet + [UInt8](repeating: 0, count: 16)
          var sealed = 0
          var opened = 0
          for counter in UInt64(worker * 2000)..<UInt64(worker * 2000 + 2000) {
            buffer.withUnsafeMutableBytes {
              if sealer.seal($0, plaintextCount: 1400, counter: counter) { sealed += 1 }
              if opener.open($0, counter: counter) { opened += 1 }
            }
            if Array(buffer.prefix(1400)) != packet { opened -= 1 }
          }
          return (sealed, opened)
        }
      }
      return await group.reduce(into: [(sealed: Int, opened: Int)]()) { $0.append($1) }
    }
    #expect(results.count == 4)
    for result in results { #expect(result.sealed == 2000 && result.opened == 2000) }
  }

  @Test func anInitiationExactly20MillisecondsAfterTheLastIsAFlood() throws {
    // wireguard-go (ConsumeMessageInitiation) refuses when the time since the last accepted
    // initiation is <= 20 ms: the boundary itself is a flood, one nanosecond more is not.
    let fixture = try HandshakeFixture()
    let start = Duration.seconds(1000)
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(
        try HandshakeFixture.initiation(from: fixture.initiator), by: fixture.responderIdentity),
      now: start)
    let newer = try HandshakeFixture.decrypt(
      try HandshakeFixture.initiation(
        from: fixture.initiator, timestamp: TAI64N(unixSeconds: 1_800_000_001, nanoseconds: 0)),
      by: fixture.responderIdentity)
    #expect(throws: HandshakeError.initiationFlood) {
      try fixture.responder.consumeInitiation(newer, now: start + .milliseconds(20))
    }
    try fixture.responder.consumeInitiation(
      newer, now: start + .milliseconds(20) + .nanoseconds(1))
    #expect(fixture.responder.lastTimestamp == TAI64N(unixSeconds: 1_800_000_001, nanoseconds: 0))
  }

  @Test func mismatchedPresharedKeysFailTheResponse() throws {
    let psk = HandshakeFixture.key(String(repeating: "ab", count: 32))
    let other = HandshakeFixture.key(String(repeating: "cd", count: 32))
    // Matching psks complete the handshake.
    let matching = try HandshakeFixture(initiatorPSK: psk, responderPSK: psk)
    let (initiatorKeys, responderKeys) = try matching.completeHandshake()
    #expect(keyBytes(initiatorKeys.sendingKey) == keyBytes(responderKeys.receivingKey))
    // The psk changes the keys.
    let (plainKeys, _) = try HandshakeFixture().completeHandshake()
    #expect(keyBytes(plainKeys.sendingKey) != keyBytes(initiatorKeys.sendingKey))

    for (initiatorPSK, responderPSK) in [(psk, other), (psk, nil), (nil, psk)] {
      let fixture = try HandshakeFixture(initiatorPSK: initiatorPSK, responderPSK: responderPSK)
      let initiation = try HandshakeFixture.initiation(from: fixture.initiator)
      try fixture.responder.consumeInitiation(
        try HandshakeFixture.decrypt(initiation, by: fixture.responderIdentity), now: .seconds(1000)
      )
      let (response, _) = try HandshakeFixture.response(from: fixture.responder)
      #expect(throws: HandshakeError.decryptionFailed("response (wrong key or psk)")) {
        try HandshakeFixture.consume(response, by: fixture.initiator)
      }
    }
  }

  @Test func changedPresharedKeyAppliesToTheNextHandshakeAndDropsTheOneInProgress() throws {
    let psk = HandshakeFixture.key(String(repeating: "ab", count: 32))
    let fixture = try HandshakeFixture(initiatorPSK: nil, responderPSK: psk)
    _ = try HandshakeFixture.initiation(from: fixture.initiator)
    #expect(fixture.initiator.initiationPending)
    fixture.initiator.setPresharedKey(psk)
    #expect(!fixture.initiator.initiationPending)
    let (initiatorKeys, responderKeys) = try fixture.completeHandshake()
    #expect(keyBytes(initiatorKeys.sendingKey) == keyBytes(responderKeys.receivingKey))
    // Back to none: the responder's psk no longer matches.
    fixture.initiator.setPresharedKey(nil)
    let initiation = try HandshakeFixture.initiation(
      from: fixture.initiator, timestamp: TAI64N(unixSeconds: 1_800_000_001, nanoseconds: 0),
      now: .seconds(1001))
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(initiation, by: fixture.responderIdentity), now: .seconds(1001))
    let (response, _) = try HandshakeFixture.response(from: fixture.responder)
    #expect(throws: HandshakeError.decryptionFailed("response (wrong key or psk)")) {
      try HandshakeFixture.consume(response, by: fixture.initiator)
    }
  }

  @Test func responsesThatDoNotFitAreRefused() throws {
    let fixture = try HandshakeFixture()
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator, index: 1)
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(initiation, by: fixture.responderIdentity), now: .seconds(1000))
    let (response, _) = try HandshakeFixture.response(from: fixture.responder)

    // Addressed to another index (mac1 recomputed so that the index check is reached).
    let (misaddressed, _) = try {
      let other = try HandshakeFixture()
      try other.responder.consumeInitiation(
        try HandshakeFixture.decrypt(
          try HandshakeFixture.initiation(from: other.initiator, index: 2),
          by: other.responderIdentity), now: .seconds(1000))
      return try HandshakeFixture.response(from: other.responder)
    }()
    #expect(throws: HandshakeError.wrongReceiverIndex(2)) {
      try HandshakeFixture.consume(misaddressed, by: fixture.initiator)
    }
    var altered = response
    altered[20] ^= 1
    #expect(throws: HandshakeError.badMAC1(.handshakeResponse)) {
      try HandshakeFixture.consume(altered, by: fixture.initiator)
    }
    // The genuine response still completes (failures leave the initiation pending)…
    #expect(fixture.initiator.initiationPending)
    _ = try HandshakeFixture.consume(response, by: fixture.initiator)
    #expect(!fixture.initiator.initiationPending)
    // …and only once.
    #expect(throws: HandshakeError.unexpectedMessage(.handshakeResponse)) {
      try HandshakeFixture.consume(response, by: fixture.initiator)
    }
    // A response cannot be created twice for one initiation.
    #expect(throws: HandshakeError.unexpectedMessage(.handshakeResponse)) {
      try HandshakeFixture.response(from: fixture.responder)
    }
  }

  @Test func lowOrderPeerKeyIsRefusedAtSetUp() throws {
    let identity = StaticIdentity(privateKey: try X25519.newPrivateKey())
    #expect(throws: HandshakeError.invalidPublicKey) {
      try PeerHandshake(
        identity: identity, remoteStatic: try PublicKey(bytes: [UInt8](repeating: 0, count: 32)))
    }
  }
}
