/// The timers of one peer (whitepaper §6) as a pure value: events in, each with the time it
/// happened at, and the actions due out. No clock, no threads, no randomness: the caller
/// feeds monotonic times and draws the jitter, calls `tick` at `nextDeadline` (or on any
/// coarser beat), and carries out the actions.
///
/// The rules, as the kernel module and wireguard-go apply them:
/// - Retransmission: an initiation with no answer is sent again after `rekeyTimeout` plus
///   jitter; when a retransmission is due after `maximumHandshakeRetries` + 1 of them (20
///   initiations, about 100 s: `rekeyAttemptTime` and the jitter), the handshake is abandoned
///   (waiting packets dropped) and the keys are erased `zeroKeysAfter` later unless a session
///   comes.
/// - Passive keepalive: after receiving data, if we send nothing within `keepaliveTimeout`,
///   send a keepalive.
/// - Lost peer: after sending data, if nothing authenticated comes back within
///   `keepaliveTimeout + rekeyTimeout` (+ jitter), start a new handshake.
/// - Rekey on send: a session is replaced when it has sent `rekeyAfterMessages`, or — only by
///   the side that initiated it, so both sides do not rekey at once — when it is
///   `rekeyAfterTime` old.
/// - Rekey on receive: the initiator of a session that is `rejectAfterTime − keepaliveTimeout
///   − rekeyTimeout` old starts a handshake once, so a session that only receives is renewed
///   before it expires.
/// - Expiry: a session is unusable at `rejectAfterTime`; all keys go after `zeroKeysAfter`
///   without a new session.
/// - Persistent keepalive (0 = off): a keepalive whenever nothing authenticated was sent or
///   received for the interval.
/// - At most one handshake message per `rekeyTimeout`: an initiation counts from the moment
///   it is asked for (whether or not its send then works, so failing sends do not make an
///   initiation per packet), a response from when it is sent.
/// - A new session is confirmed to the responder at once: the initiator that processed the
///   response sends a keepalive.
public struct PeerTimers: Sendable, Equatable {
  /// The current session: when it started and whether we initiated it.
  public struct Session: Sendable, Equatable {
    /// When its keys were derived (`TransportKeys.created`).
    public var started: Duration
    public var isInitiator: Bool
  }

  /// The persistent keepalive interval, `.zero` for none (`setPersistentKeepalive`).
  public private(set) var persistentKeepalive: Duration
  public private(set) var session: Session?
  /// Retransmissions of the pending initiation so far.
  public private(set) var handshakeRetries = 0

  private var retransmitAt: Duration?
  private var keepaliveAt: Duration?
  private var anotherKeepalive = false
  private var newHandshakeAt: Duration?
  private var zeroKeysAt: Duration?
  private var persistentKeepaliveAt: Duration?
  private var lastHandshakeSent: Duration?
  private var lastMinuteHandshakeSent = false

  /// `persistentKeepalive`: the interval, `.zero` for none.
  public init(persistentKeepalive: Duration = .zero) {
    self.persistentKeepalive = max(persistentKeepalive, .zero)
  }

  /// Changes the persistent keepalive interval of a running peer (a configuration update).
  /// Turning it on from off asks for a keepalive at once, as adding a peer with one does (and
  /// wireguard-go on a configuration change); turning it off cancels the pending one; a new
  /// non-zero interval counts from the next authenticated packet.
  public mutating func setPersistentKeepalive(_ interval: Duration, at now: Duration)
    -> PeerTimerActions
  {
    let interval = max(interval, .zero)
    let wasOff = persistentKeepalive == .zero
    persistentKeepalive = interval
    guard interval > .zero else {
      persistentKeepaliveAt = nil
      return []
    }
    if let at = persistentKeepaliveAt { persistentKeepaliveAt = min(at, now + interval) }
    return wasOff ? .sendKeepalive : []
  }

  /// Records `event` at `now` and returns what is to be done at once.
  public mutating func handle(_ event: PeerTimerEvent, at now: Duration) -> PeerTimerActions {
    switch event {
    case .peerAdded:
      return persistentKeepalive > .zero ? .sendKeepalive : []
    case .sendWithoutSession:
      return requestInitiation(now, retry: false)
    case .transportSent(let keepalive, let counter, let jitter):
      authenticatedPacketSent(now)
      if !keepalive && newHandshakeAt == nil {
        newHandshakeAt = now + Limits.keepaliveTimeout + Limits.rekeyTimeout + clamped(jitter)
      }
      guard let session else { return [] }
      let rekey =
        counter > Limits.rekeyAfterMessages
        || (session.isInitiator && now - session.started > Limits.rekeyAfterTime)
      return rekey ? requestInitiation(now, retry: false) : []
    case .transportReceived(let keepalive):
      var actions: PeerTimerActions = []
      if !lastMinuteHandshakeSent, let session, session.isInitiator,
        now - session.started > Limits.rejectAfterTime - Limits.keepaliveTimeout
          - Limits.rekeyTimeout
      {
        lastMinuteHandshakeSent = true
        actions.formUnion(requestInitiation(now, retry: false))
      }
      authenticatedPacketReceived(now)
      if !keepalive {
        if keepaliveAt == nil {
          keepaliveAt = now + Limits.keepaliveTimeout
        } else {
          anotherKeepalive = true
        }
      }
      return actions
    case .initiationSent(let jitter):
      authenticatedPacketSent(now)
      lastHandshakeSent = max(lastHandshakeSent ?? now, now)
      retransmitAt = now + Limits.rekeyTimeout + clamped(jitter)
      return []
    case .responseSent:
      authenticatedPacketSent(now)
      lastHandshakeSent = max(lastHandshakeSent ?? now, now)
      sessionDerived(at: now)
      return []
    case .handshakeReceived:
      authenticatedPacketReceived(now)
      return []
    case .sessionStarted(let isInitiator, let keysCreated):
      let started = min(keysCreated, now)
      session = Session(started: started, isInitiator: isInitiator)
      sessionDerived(at: started)
      return isInitiator ? .sendKeepalive : []
    case .handshakeCompleted:
      retransmitAt = nil
      handshakeRetries = 0
      lastMinuteHandshakeSent = false
      return []
    case .tick:
      return tick(now)
    }
  }

  /// Fires every timer due at `now`.
  public mutating func tick(_ now: Duration) -> PeerTimerActions {
    var actions: PeerTimerActions = []
    if let at = retransmitAt, at <= now {
      retransmitAt = nil
      if handshakeRetries > Limits.maximumHandshakeRetries {
        keepaliveAt = nil
        actions.insert(.abandonHandshake)
        if zeroKeysAt == nil { zeroKeysAt = now + Limits.zeroKeysAfter }
      } else {
        handshakeRetries += 1
        actions.formUnion(requestInitiation(now, retry: true))
      }
    }
    if let at = newHandshakeAt, at <= now {
      newHandshakeAt = nil
      actions.formUnion(requestInitiation(now, retry: false))
    }
    if let at = keepaliveAt, at <= now {
      keepaliveAt = nil
      actions.insert(.sendKeepalive)
      if anotherKeepalive {
        anotherKeepalive = false
        keepaliveAt = now + Limits.keepaliveTimeout
      }
    }
    if let at = persistentKeepaliveAt, at <= now {
      persistentKeepaliveAt = nil
      actions.insert(.sendKeepalive)
    }
    if let session, now - session.started >= Limits.rejectAfterTime {
      self.session = nil
      actions.insert(.expireSession)
    }
    if let at = zeroKeysAt, at <= now {
      zeroKeysAt = nil
      session = nil
      actions.insert(.zeroKeys)
    }
    return actions
  }

  /// The earliest time at which `tick` has something to do; nil when nothing is pending.
  public var nextDeadline: Duration? {
    let expiry = session.map { $0.started + Limits.rejectAfterTime }
    return [retransmitAt, newHandshakeAt, keepaliveAt, persistentKeepaliveAt, expiry, zeroKeysAt]
      .compactMap { $0 }.min()
  }

  /// An initiation unless a handshake message was sent (or an initiation asked for) less than
  /// `rekeyTimeout` ago. A fresh request (not a retransmission) starts the retry count again.
  private mutating func requestInitiation(_ now: Duration, retry: Bool) -> PeerTimerActions {
    if !retry { handshakeRetries = 0 }
    if let last = lastHandshakeSent, now - last < Limits.rekeyTimeout { return [] }
    lastHandshakeSent = now
    return .sendInitiation
  }

  /// New keys exist from `created` on: the old ones are erased `zeroKeysAfter` after the
  /// newest, never earlier.
  private mutating func sessionDerived(at created: Duration) {
    let at = created + Limits.zeroKeysAfter
    zeroKeysAt = max(zeroKeysAt ?? at, at)
  }

  /// Any authenticated packet sent (handshake, data, keepalive): it answers the peer, so the
  /// passive keepalive is not needed.
  private mutating func authenticatedPacketSent(_ now: Duration) {
    keepaliveAt = nil
    armPersistentKeepalive(now)
  }

  /// Any authenticated packet received: the peer is alive, no new handshake for silence.
  private mutating func authenticatedPacketReceived(_ now: Duration) {
    newHandshakeAt = nil
    armPersistentKeepalive(now)
  }

  private mutating func armPersistentKeepalive(_ now: Duration) {
    if persistentKeepalive > .zero { persistentKeepaliveAt = now + persistentKeepalive }
  }

  private func clamped(_ jitter: Duration) -> Duration {
    min(max(jitter, .zero), Limits.maximumRekeyJitter)
  }
}
