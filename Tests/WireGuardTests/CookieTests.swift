import Testing

@testable import WireGuard

@Suite struct CookieTests {
  static let source = CookieChecker.sourceBytes(address: [192, 0, 2, 7], port: 51820)

  func reply(
    _ checker: CookieChecker, to message: [UInt8], source: [UInt8] = source,
    now: Duration
  ) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0xee, count: 64)
    try buffer.withUnsafeMutableBytes { reply in
      try message.withUnsafeBytes {
        try checker.makeReply(into: reply, for: $0, source: source, now: now)
      }
    }
    return buffer
  }

  func checkMAC2(
    _ checker: CookieChecker, _ message: [UInt8], source: [UInt8] = source,
    now: Duration
  ) -> Bool {
    message.withUnsafeBytes { checker.checkMAC2($0, source: source, now: now) }
  }

  @Test func sourceBytesAreAddressThenBigEndianPort() {
    #expect(Self.source == [192, 0, 2, 7, 0xca, 0x6c])
  }

  @Test func cookieRoundTripSetsAnAcceptedMAC2() throws {
    let fixture = try HandshakeFixture()
    let checker = CookieChecker(identity: fixture.responderIdentity)
    let start = Duration.seconds(1000)
    let first = try HandshakeFixture.initiation(from: fixture.initiator, index: 0xabcd, now: start)
    // Under load: mac1 fine, mac2 (zero) not valid → answer with a cookie reply.
    #expect(first.withUnsafeBytes { checker.checkMAC1($0) })
    #expect(!checkMAC2(checker, first, now: start))
    let cookieReply = try reply(checker, to: first, now: start)
    #expect(Array(cookieReply[0..<8]) == [3, 0, 0, 0, 0xcd, 0xab, 0, 0])

    #expect(!fixture.initiator.cookies.hasCookie(now: start))
    #expect(cookieReply.withUnsafeBytes { fixture.initiator.cookies.consumeReply($0, now: start) })
    #expect(fixture.initiator.cookies.hasCookie(now: start))

    let later = start + .seconds(1)
    let second = try HandshakeFixture.initiation(
      from: fixture.initiator, timestamp: TAI64N(unixSeconds: 1_800_000_001, nanoseconds: 0),
      now: later)
    #expect(Array(second[132..<148]) != [UInt8](repeating: 0, count: 16))
    #expect(checkMAC2(checker, second, now: later))
    // The cookie is bound to the source address and port…
    #expect(
      !checkMAC2(
        checker, second, source: CookieChecker.sourceBytes(address: [192, 0, 2, 7], port: 51821),
        now: later))
    // …an altered mac2 is refused…
    var altered = second
    altered[147] ^= 1
    #expect(!checkMAC2(checker, altered, now: later))
    // …and the message itself still goes through the handshake.
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(second, by: fixture.responderIdentity), now: later)
  }

  @Test func cookieSecretAndCookieExpireAfterTwoMinutes() throws {
    let fixture = try HandshakeFixture()
    let checker = CookieChecker(identity: fixture.responderIdentity)
    let start = Duration.seconds(1000)
    let first = try HandshakeFixture.initiation(from: fixture.initiator, now: start)
    let cookieReply = try reply(checker, to: first, now: start)
    #expect(cookieReply.withUnsafeBytes { fixture.initiator.cookies.consumeReply($0, now: start) })
    let second = try HandshakeFixture.initiation(from: fixture.initiator, now: start)
    #expect(checkMAC2(checker, second, now: start + .seconds(119)))
    // The responder's secret is older than 2 minutes: no mac2 is valid until it makes a new one.
    #expect(!checkMAC2(checker, second, now: start + .seconds(121)))
    // The initiator no longer sends a mac2 from a cookie older than 2 minutes.
    let stale = try HandshakeFixture.initiation(
      from: fixture.initiator, now: start + .seconds(121))
    #expect(Array(stale[132..<148]) == [UInt8](repeating: 0, count: 16))
  }

  @Test func repliesThatDoNotMatchOurLastMAC1AreRefused() throws {
    let fixture = try HandshakeFixture()
    let checker = CookieChecker(identity: fixture.responderIdentity)
    let now = Duration.seconds(1000)
    // No message sent yet: nothing to bind a reply to.
    let first = try HandshakeFixture.initiation(from: fixture.initiator, now: now)
    let fresh = try HandshakeFixture()
    let early = try reply(checker, to: first, now: now)
    #expect(!early.withUnsafeBytes { fresh.initiator.cookies.consumeReply($0, now: now) })
    // A reply to an older message (another mac1) is refused.
    _ = try HandshakeFixture.initiation(
      from: fixture.initiator, timestamp: TAI64N(unixSeconds: 1_900_000_000, nanoseconds: 0),
      now: now)
    #expect(!early.withUnsafeBytes { fixture.initiator.cookies.consumeReply($0, now: now) })
    // An altered reply is refused.
    let current = try HandshakeFixture.initiation(from: fixture.initiator, now: now)
    var altered = try reply(checker, to: current, now: now)
    altered[40] ^= 1
    #expect(!altered.withUnsafeBytes { fixture.initiator.cookies.consumeReply($0, now: now) })
    #expect(!fixture.initiator.cookies.hasCookie(now: now))
  }

  @Test func cookieReplyUsesTheResponderKeyAndTheTriggeringMAC1() throws {
    // The reply's cookie decrypts with XChaCha20-Poly1305 under HASH("cookie--" || responder
    // public key), the nonce from the reply, and mac1 of the triggering message as AD.
    let fixture = try HandshakeFixture()
    let checker = CookieChecker(identity: fixture.responderIdentity)
    let now = Duration.seconds(1000)
    let nonce = (0..<24).map { UInt8($0) }
    let message = try HandshakeFixture.initiation(from: fixture.initiator, now: now)
    var buffer = [UInt8](repeating: 0, count: 64)
    try buffer.withUnsafeMutableBytes { out in
      try message.withUnsafeBytes {
        try checker.makeReply(into: out, for: $0, source: Self.source, now: now, nonce: nonce)
      }
    }
    #expect(Array(buffer[8..<32]) == nonce)
    let key = try SecretKey(
      bytes: Blake2s.hash(Array("cookie--".utf8), fixture.responderIdentity.publicKey.bytes))
    let cookie = XChaCha20Poly1305.open(
      key: key, nonce: nonce, ciphertext: Array(buffer[32..<64]),
      additionalData: Array(message[116..<132]))
    // The decrypted cookie is τ: a mac2 made with it is the one the checker accepts from
    // this source, and not from another port.
    let tau = try #require(cookie)
    #expect(tau.count == 16)
    var withMAC2 = message
    withMAC2.replaceSubrange(132..<148, with: Blake2s.mac(key: tau, Array(message[0..<132])))
    #expect(checkMAC2(checker, withMAC2, now: now))
    #expect(
      !checkMAC2(
        checker, withMAC2, source: CookieChecker.sourceBytes(address: [192, 0, 2, 7], port: 51821),
        now: now))
  }

  @Test func messagesWithABadMAC1GetNoCookieReply() throws {
    // Answering without checking mac1 would make us a reflector for spoofed sources.
    let fixture = try HandshakeFixture()
    let checker = CookieChecker(identity: fixture.responderIdentity)
    let now = Duration.seconds(1000)
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator, now: now)
    for (name, message, type) in [
      ("initiation", initiation, MessageType.handshakeInitiation),
      ("response", [UInt8](repeating: 7, count: 92), MessageType.handshakeResponse),
    ] {
      var altered = message
      altered[message.count - 32] ^= 1  // first byte of mac1
      #expect(throws: HandshakeError.badMAC1(type), "\(name)") {
        try reply(checker, to: altered, now: now)
      }
    }
    // The same initiation unaltered is answered.
    #expect(try reply(checker, to: initiation, now: now)[0] == 3)
  }

  @Test func onlyHandshakeMessagesGetCookieReplies() throws {
    let fixture = try HandshakeFixture()
    let checker = CookieChecker(identity: fixture.responderIdentity)
    for size in [0, 32, 64, 147, 149] {
      #expect(throws: HandshakeError.wrongSize(.handshakeInitiation, size)) {
        try reply(checker, to: [UInt8](repeating: 1, count: size), now: .seconds(1000))
      }
    }
    var small = [UInt8](repeating: 0, count: 63)
    #expect(throws: HandshakeError.bufferTooSmall(.cookieReply, 63)) {
      try small.withUnsafeMutableBytes { out in
        try [UInt8](repeating: 1, count: 92).withUnsafeBytes {
          try checker.makeReply(into: out, for: $0, source: Self.source, now: .seconds(1000))
        }
      }
    }
  }
}
