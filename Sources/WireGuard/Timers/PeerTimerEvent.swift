/// What happened to one peer, as the timer state machine needs to know it (whitepaper §6;
/// the events the kernel module and wireguard-go hook their timers to). Every event comes with
/// the monotonic time it happened at.
public enum PeerTimerEvent: Sendable, Equatable {
  /// The peer was configured (or its persistent keepalive set): with a persistent keepalive
  /// the peer gets one at once, so a NAT in between learns the way.
  case peerAdded
  /// Packets wait to go to the peer but there is no session that may send (none yet, or the
  /// current one is too old or used up): start a handshake.
  case sendWithoutSession
  /// A transport message was sealed and sent on the current session: `keepalive` when its
  /// plaintext was empty, `counter` the counter it was sent with. `jitter` (0–333 ms, drawn
  /// by the caller) delays the "no answer" handshake.
  case transportSent(keepalive: Bool, counter: UInt64, jitter: Duration)
  /// A transport message was opened (tag valid, counter accepted); `keepalive` when empty.
  case transportReceived(keepalive: Bool)
  /// A handshake initiation was sent. `jitter` (0–333 ms) delays its retransmission. Report
  /// it also when the send itself failed (the kernel module and wireguard-go arm the
  /// retransmission either way), so that a lost initiation is retried.
  case initiationSent(jitter: Duration)
  /// A handshake response was sent (we are the responder): its keys were derived now, which
  /// restarts the countdown to erasing them, and no initiation goes out for
  /// `Limits.rekeyTimeout`.
  case responseSent
  /// An initiation or a response from the peer passed its checks.
  case handshakeReceived
  /// A new session became the current one: as initiator when the peer's response was
  /// processed, as responder when the peer's first transport message confirmed it.
  /// `keysCreated` is the session's `TransportKeys.created` (for the responder, when the
  /// response was made, not when it was confirmed): the session's age, and so
  /// REKEY_AFTER_TIME and REJECT_AFTER_TIME, count from it, as `Limits.maySend` does.
  case sessionStarted(isInitiator: Bool, keysCreated: Duration)
  /// The handshake we were retransmitting is done (response processed, or the peer's first
  /// transport message on a session it initiated arrived).
  case handshakeCompleted
  /// Time passed: fire whatever is due.
  case tick
}

/// What the caller must do after an event: any combination.
public struct PeerTimerActions: OptionSet, Sendable, Hashable, CustomStringConvertible {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// Build and send a handshake initiation now (already rate-limited: at most one per
  /// `Limits.rekeyTimeout`); report it with `.initiationSent`.
  public static let sendInitiation = PeerTimerActions(rawValue: 1 << 0)
  /// Send a keepalive (an empty transport message); with no usable session, report
  /// `.sendWithoutSession` instead.
  /// After `.sessionStarted(isInitiator: true)` it confirms the session to the responder,
  /// which may not send on it before something arrives from us; a caller that sends queued
  /// data on the new session at once may skip it (the data confirms as well).
  public static let sendKeepalive = PeerTimerActions(rawValue: 1 << 1)
  /// The handshake went unanswered for `Limits.rekeyAttemptTime`: drop the packets waiting
  /// for it; no more initiations until something new is to be sent.
  public static let abandonHandshake = PeerTimerActions(rawValue: 1 << 2)
  /// The current session reached `Limits.rejectAfterTime`: stop sending and receiving on it.
  public static let expireSession = PeerTimerActions(rawValue: 1 << 3)
  /// No new session for three times `Limits.rejectAfterTime`: erase every key of the peer
  /// (sessions and any handshake in progress).
  public static let zeroKeys = PeerTimerActions(rawValue: 1 << 4)

  public var description: String {
    let names: [(PeerTimerActions, String)] = [
      (.sendInitiation, "sendInitiation"), (.sendKeepalive, "sendKeepalive"),
      (.abandonHandshake, "abandonHandshake"), (.expireSession, "expireSession"),
      (.zeroKeys, "zeroKeys"),
    ]
    return "[" + names.filter { contains($0.0) }.map(\.1).joined(separator: ", ") + "]"
  }
}
