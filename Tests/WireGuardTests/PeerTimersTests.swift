import Testing
import WireGuard

/// Scripts of (time, event, actions expected) against a fake clock: times in milliseconds
/// since an arbitrary origin.
@Suite struct PeerTimersTests {
  struct Step: Sendable, CustomStringConvertible {
    let ms: Int
    let event: PeerTimerEvent
    let expected: PeerTimerActions
    init(_ ms: Int, _ event: PeerTimerEvent, _ expected: PeerTimerActions = []) {
      self.ms = ms
      self.event = event
      self.expected = expected
    }
    var description: String { "at \(ms) ms \(event)" }
  }

  static func data(_ jitterMs: Int = 0, counter: UInt64 = 1) -> PeerTimerEvent {
    .transportSent(keepalive: false, counter: counter, jitter: .milliseconds(jitterMs))
  }
  static let keepaliveSent = PeerTimerEvent.transportSent(
    keepalive: true, counter: 1, jitter: .zero)
  static let dataReceived = PeerTimerEvent.transportReceived(keepalive: false)
  static let keepaliveReceived = PeerTimerEvent.transportReceived(keepalive: true)
  static let initiated = PeerTimerEvent.initiationSent(jitter: .zero)
  /// A session whose keys were made at `ms`.
  static func asInitiator(_ ms: Int) -> PeerTimerEvent {
    .sessionStarted(isInitiator: true, keysCreated: .milliseconds(ms))
  }
  static func asResponder(_ ms: Int) -> PeerTimerEvent {
    .sessionStarted(isInitiator: false, keysCreated: .milliseconds(ms))
  }

  static func run(_ steps: [Step], timers: PeerTimers = PeerTimers()) -> PeerTimers {
    var timers = timers
    for step in steps {
      let actions = timers.handle(step.event, at: .milliseconds(step.ms))
      #expect(actions == step.expected, "\(step)")
    }
    return timers
  }

  @Test(
    arguments: [
      (
        "an unanswered initiation is retransmitted after REKEY_TIMEOUT plus jitter",
        [
          Step(0, .sendWithoutSession, .sendInitiation),
          Step(0, .initiationSent(jitter: .milliseconds(120))),
          Step(5_119, .tick), Step(5_120, .tick, .sendInitiation), Step(5_120, initiated),
          Step(10_119, .tick), Step(10_120, .tick, .sendInitiation),
        ]
      ),
      (
        "jitter is clamped to 333 ms",
        [
          Step(0, .sendWithoutSession, .sendInitiation),
          Step(0, .initiationSent(jitter: .seconds(9))),
          Step(5_332, .tick), Step(5_333, .tick, .sendInitiation),
        ]
      ),
      (
        "a completed handshake stops the retransmission",
        [
          Step(0, .sendWithoutSession, .sendInitiation), Step(0, initiated),
          Step(40, .handshakeReceived), Step(40, asInitiator(40), .sendKeepalive),
          Step(40, .handshakeCompleted), Step(40, keepaliveSent), Step(5_000, .tick),
          Step(60_000, .tick),
        ]
      ),
      (
        "at most one initiation per REKEY_TIMEOUT, whoever asks",
        [
          Step(0, .sendWithoutSession, .sendInitiation), Step(0, initiated),
          Step(1_000, .sendWithoutSession), Step(4_999, .sendWithoutSession),
          Step(5_000, .sendWithoutSession, .sendInitiation),
        ]
      ),
      (
        "an initiation asked for counts for the rate limit even if no send is reported",
        [
          Step(0, .sendWithoutSession, .sendInitiation), Step(1_000, .sendWithoutSession),
          Step(5_000, .sendWithoutSession, .sendInitiation),
        ]
      ),
      (
        "a response sent holds our own initiations back for REKEY_TIMEOUT",
        [
          Step(0, .handshakeReceived), Step(0, .responseSent), Step(4_999, .sendWithoutSession),
          Step(5_000, .sendWithoutSession, .sendInitiation),
        ]
      ),
      (
        "the initiator confirms a new session with a keepalive at once",
        [
          Step(0, .sendWithoutSession, .sendInitiation), Step(0, initiated),
          Step(30, .handshakeReceived), Step(30, asInitiator(30), .sendKeepalive),
          Step(30, .handshakeCompleted), Step(30, keepaliveSent), Step(10_030, .tick),
        ]
      ),
      (
        "the responder sends nothing when the initiator confirms the session",
        [
          Step(0, .handshakeReceived), Step(0, .responseSent), Step(50, keepaliveReceived),
          Step(50, asResponder(0)),
        ]
      ),
      (
        "passive keepalive KEEPALIVE_TIMEOUT after data received with nothing sent",
        [
          Step(0, asResponder(0)), Step(0, dataReceived), Step(9_999, .tick),
          Step(10_000, .tick, .sendKeepalive), Step(10_000, keepaliveSent), Step(30_000, .tick),
        ]
      ),
      (
        "no passive keepalive when we sent something in the meantime",
        [Step(0, asResponder(0)), Step(0, dataReceived), Step(4_000, data()), Step(10_000, .tick)]
      ),
      (
        "a received keepalive asks for no keepalive",
        [
          Step(0, asResponder(0)), Step(0, keepaliveReceived), Step(10_000, .tick),
          Step(20_000, .tick),
        ]
      ),
      (
        // The timer is armed again when it fires, but sending the keepalive cancels it, as
        // any authenticated send does (in wireguard-go and the kernel module alike).
        "data received while a keepalive is pending: the keepalive sent answers both",
        [
          Step(0, asResponder(0)), Step(0, dataReceived), Step(3_000, dataReceived),
          Step(10_000, .tick, .sendKeepalive), Step(10_000, keepaliveSent), Step(20_000, .tick),
          Step(30_000, .tick),
        ]
      ),
      (
        "data received while a keepalive is pending: another one if the first was not sent",
        [
          Step(0, asResponder(0)), Step(0, dataReceived), Step(3_000, dataReceived),
          Step(10_000, .tick, .sendKeepalive), Step(19_999, .tick),
          Step(20_000, .tick, .sendKeepalive), Step(30_000, .tick),
        ]
      ),
      (
        "data sent and nothing heard for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT: new handshake",
        [
          Step(0, asInitiator(0), .sendKeepalive), Step(1_000, data(200)), Step(5_000, data()),
          Step(16_199, .tick),
          Step(16_200, .tick, .sendInitiation),
        ]
      ),
      (
        "anything authenticated heard back cancels that handshake",
        [
          Step(0, asInitiator(0), .sendKeepalive), Step(1_000, data()),
          Step(15_999, keepaliveReceived),
          Step(16_000, .tick), Step(40_000, .tick),
        ]
      ),
      (
        "the initiator rekeys on send after REKEY_AFTER_TIME",
        [
          Step(0, asInitiator(0), .sendKeepalive), Step(0, .handshakeCompleted),
          Step(120_000, data()),
          Step(120_001, data(), .sendInitiation), Step(120_002, data()),
          Step(125_001, data(), .sendInitiation),
        ]
      ),
      (
        "the responder does not rekey on time when sending",
        [Step(0, asResponder(0)), Step(121_000, data()), Step(170_000, data())]
      ),
      (
        "either side rekeys on send after REKEY_AFTER_MESSAGES",
        [
          Step(0, asResponder(0)), Step(1, data(counter: 1 << 60)),
          Step(2, data(counter: (1 << 60) + 1), .sendInitiation),
        ]
      ),
      (
        "the initiator rekeys once on receive at REJECT_AFTER_TIME − KEEPALIVE − REKEY_TIMEOUT",
        [
          Step(0, asInitiator(0), .sendKeepalive), Step(165_000, keepaliveReceived),
          Step(165_001, keepaliveReceived, .sendInitiation), Step(171_000, dataReceived),
          Step(175_000, dataReceived),
        ]
      ),
      (
        "the responder does not rekey on receive",
        [Step(0, asResponder(0)), Step(170_000, keepaliveReceived)]
      ),
      (
        "a session expires at REJECT_AFTER_TIME, keys are zeroed at three times that",
        [
          Step(0, asInitiator(0), .sendKeepalive), Step(179_999, .tick),
          Step(180_000, .tick, .expireSession),
          Step(200_000, .tick), Step(539_999, .tick), Step(540_000, .tick, .zeroKeys),
          Step(600_000, .tick),
        ]
      ),
      (
        "a new session pushes the zeroing back",
        [
          Step(0, asInitiator(0), .sendKeepalive),
          Step(100_000, asInitiator(100_000), .sendKeepalive),
          Step(540_000, .tick, .expireSession), Step(640_000, .tick, .zeroKeys),
        ]
      ),
      (
        "a response sent arms the zeroing even if the session is never confirmed",
        [
          Step(0, .handshakeReceived), Step(0, .responseSent), Step(539_999, .tick),
          Step(540_000, .tick, .zeroKeys),
        ]
      ),
      (
        "the responder's session ages from its keys' creation, not from the confirmation",
        [
          Step(0, .handshakeReceived), Step(0, .responseSent), Step(2_000, keepaliveReceived),
          Step(2_000, asResponder(0)), Step(179_999, .tick), Step(180_000, .tick, .expireSession),
          Step(540_000, .tick, .zeroKeys),
        ]
      ),
    ] as [(String, [Step])])
  func script(_ name: String, steps: [Step]) {
    _ = Self.run(steps)
  }

  @Test(
    arguments: [
      (
        "persistent keepalive: one at once, then whenever nothing passed for the interval",
        [
          Step(0, .peerAdded, .sendKeepalive), Step(0, .sendWithoutSession, .sendInitiation),
          Step(0, initiated), Step(100, .handshakeReceived),
          Step(100, asInitiator(100), .sendKeepalive), Step(100, .handshakeCompleted),
          Step(100, keepaliveSent), Step(25_099, .tick), Step(25_100, .tick, .sendKeepalive),
          Step(25_100, keepaliveSent), Step(40_000, keepaliveReceived), Step(64_999, .tick),
          Step(65_000, .tick, .sendKeepalive),
        ]
      )
    ] as [(String, [Step])])
  func persistentKeepalive(_ name: String, steps: [Step]) {
    _ = Self.run(steps, timers: PeerTimers(persistentKeepalive: .seconds(25)))
  }

  @Test func noPersistentKeepaliveByDefault() {
    _ = Self.run([
      Step(0, .peerAdded), Step(0, Self.asInitiator(0), .sendKeepalive),
      Step(0, Self.keepaliveSent),
      Step(0, Self.keepaliveReceived), Step(100_000, .tick),
    ])
  }

  @Test func anUnansweredHandshakeIsAbandonedAfterTwentyInitiations() {
    var timers = PeerTimers()
    var now: Duration = .zero
    var initiations = 0
    var actions = timers.handle(.sendWithoutSession, at: now)
    while actions == .sendInitiation {
      initiations += 1
      _ = timers.handle(.initiationSent(jitter: .zero), at: now)
      now = timers.nextDeadline!
      actions = timers.tick(now)
    }
    #expect(initiations == 20)
    #expect(actions == .abandonHandshake)
    #expect(now == .seconds(100))
    #expect(timers.handshakeRetries == 19)
    // The keys (of a half-done exchange) go REJECT_AFTER_TIME × 3 later.
    #expect(timers.nextDeadline == .seconds(640))
    let late = timers.tick(.seconds(640))
    #expect(late == .zeroKeys)
    #expect(timers.nextDeadline == nil)
    // New data to send starts a fresh round.
    let fresh = timers.handle(.sendWithoutSession, at: .seconds(700))
    #expect(fresh == .sendInitiation)
    #expect(timers.handshakeRetries == 0)
  }

  @Test func nextDeadlineIsTheEarliestPendingTimer() {
    var timers = PeerTimers(persistentKeepalive: .seconds(25))
    #expect(timers.nextDeadline == nil)
    _ = timers.handle(Self.asInitiator(0), at: .zero)
    #expect(timers.nextDeadline == .seconds(180))
    _ = timers.handle(Self.dataReceived, at: .seconds(1))
    #expect(timers.nextDeadline == .seconds(11))
    _ = timers.handle(Self.data(), at: .seconds(2))
    #expect(timers.nextDeadline == .seconds(17))
    _ = timers.handle(Self.dataReceived, at: .seconds(3))
    #expect(timers.nextDeadline == .seconds(13))
    _ = timers.handle(Self.keepaliveSent, at: .seconds(4))
    #expect(timers.nextDeadline == .seconds(29))
  }

  @Test func sessionLimits() {
    #expect(Limits.maySend(sessionStarted: .zero, now: .seconds(179), counter: 0))
    #expect(!Limits.maySend(sessionStarted: .zero, now: .seconds(180), counter: 0))
    #expect(!Limits.maySend(sessionStarted: .zero, now: .zero, counter: Limits.rejectAfterMessages))
    #expect(
      Limits.maySend(sessionStarted: .zero, now: .zero, counter: Limits.rejectAfterMessages - 1))
    #expect(Limits.mayReceive(sessionStarted: .seconds(10), now: .seconds(189)))
    #expect(!Limits.mayReceive(sessionStarted: .seconds(10), now: .seconds(190)))
  }

  @Test func constantsAreTheWhitepapers() {
    #expect(Limits.rekeyAfterMessages == 1 << 60)
    #expect(Limits.rejectAfterMessages == UInt64.max - (1 << 13))
    #expect(Limits.rekeyAfterTime == .seconds(120))
    #expect(Limits.rejectAfterTime == .seconds(180))
    #expect(Limits.rekeyAttemptTime == .seconds(90))
    #expect(Limits.rekeyTimeout == .seconds(5))
    #expect(Limits.keepaliveTimeout == .seconds(10))
    #expect(Limits.cookieRefreshTime == .seconds(120))
    #expect(Limits.zeroKeysAfter == .seconds(540))
  }
}

/// Changing the persistent keepalive of a running peer (`setPersistentKeepalive`).
@Suite struct PeerTimersKeepaliveChangeTests {
  @Test func turningItOnAsksForAKeepaliveAtOnceAndArmsTheInterval() {
    var timers = PeerTimers()
    #expect(timers.setPersistentKeepalive(.seconds(25), at: .seconds(1)) == .sendKeepalive)
    #expect(timers.persistentKeepalive == .seconds(25))
    _ = timers.handle(.transportSent(keepalive: true, counter: 0, jitter: .zero), at: .seconds(1))
    #expect(timers.nextDeadline == .seconds(26))
    // A new non-zero interval: no extra keepalive, an earlier one is honoured.
    #expect(timers.setPersistentKeepalive(.seconds(10), at: .seconds(2)).isEmpty)
    #expect(timers.nextDeadline == .seconds(12))
  }

  @Test func turningItOffCancelsThePendingKeepalive() {
    var timers = PeerTimers(persistentKeepalive: .seconds(25))
    _ = timers.handle(.transportSent(keepalive: true, counter: 0, jitter: .zero), at: .seconds(1))
    #expect(timers.nextDeadline == .seconds(26))
    #expect(timers.setPersistentKeepalive(.zero, at: .seconds(2)).isEmpty)
    #expect(timers.nextDeadline == nil)
    #expect(timers.tick(.seconds(30)).isEmpty)
  }
}
