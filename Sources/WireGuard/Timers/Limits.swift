/// The protocol's constants (whitepaper §6.1; the same values in the kernel module and
/// wireguard-go). Times are durations; "now" everywhere in this module is a monotonic
/// duration since an origin the caller picks.
public enum Limits {
  /// A session that has sent this many messages should be replaced (the sender starts a
  /// handshake).
  public static let rekeyAfterMessages: UInt64 = 1 << 60
  /// No message is sent or accepted with a counter at or past this: 2^64 − 2^13 − 1, leaving
  /// room for the replay window so that the counter never wraps.
  public static let rejectAfterMessages: UInt64 = UInt64.max - (1 << 13)
  /// The initiator of a session starts a new handshake when it sends on a session this old.
  public static let rekeyAfterTime: Duration = .seconds(120)
  /// No message is sent or accepted on a session this old.
  public static let rejectAfterTime: Duration = .seconds(180)
  /// How long an unanswered handshake is retried before it is given up.
  public static let rekeyAttemptTime: Duration = .seconds(90)
  /// How long to wait for a handshake response before sending a new initiation; also the
  /// least time between two initiations to one peer.
  public static let rekeyTimeout: Duration = .seconds(5)
  /// Random delay added to `rekeyTimeout` so that two peers do not retry in lock step:
  /// 0 to 333 ms.
  public static let maximumRekeyJitter: Duration = .milliseconds(333)
  /// A peer that received data and has nothing to send answers with a keepalive after this.
  public static let keepaliveTimeout: Duration = .seconds(10)
  /// How long a cookie from a cookie reply stays usable; also how often the secret behind the
  /// cookies we hand out changes.
  public static let cookieRefreshTime: Duration = .seconds(120)
  /// rekeyAttemptTime / rekeyTimeout: a handshake is given up when a retransmission comes due
  /// after more than this many (`PeerTimers`).
  public static let maximumHandshakeRetries = 18
  /// A session's key material is erased when no new session has come for this long.
  public static let zeroKeysAfter: Duration = rejectAfterTime * 3
}

extension Limits {
  /// Whether a session that started at `started` may still seal a message with `counter`
  /// at `now` (whitepaper §6.1: not past `rejectAfterTime`, not at `rejectAfterMessages`).
  @inline(__always)
  public static func maySend(sessionStarted started: Duration, now: Duration, counter: UInt64)
    -> Bool
  {
    now - started < rejectAfterTime && counter < rejectAfterMessages
  }

  /// Whether a message that arrived at `now` may be opened with a session that started at
  /// `started` (the counter itself is checked by `ReplayWindow`).
  @inline(__always)
  public static func mayReceive(sessionStarted started: Duration, now: Duration) -> Bool {
    now - started < rejectAfterTime
  }
}
