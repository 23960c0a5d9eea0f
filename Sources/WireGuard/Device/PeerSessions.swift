/// The sessions of one peer, in the three slots the kernel module and wireguard-go keep:
///
/// - `current`: the session we send on (and receive on);
/// - `previous`: the one `current` replaced, still receiving what the peer sent before it
///   switched, until it is replaced in turn or expires;
/// - `next`: as responder, the session of the response we sent, unconfirmed: it may receive
///   (the initiator's first transport message confirms it) but not send.
///
/// The transitions return the sessions they drop, whose local indices the caller frees.
public struct PeerSessions: Sendable {
  public private(set) var current: TransportKeys?
  public private(set) var previous: TransportKeys?
  public private(set) var next: TransportKeys?

  public init() {}

  /// The session that may seal what we send: `current`.
  public var sending: TransportKeys? { current }

  /// Every session whose local index may open a received transport message: current,
  /// previous and next, in that order.
  public var receiving: [TransportKeys] { [current, previous, next].compactMap { $0 } }

  public var isEmpty: Bool { current == nil && previous == nil && next == nil }

  /// We initiated and processed the response: `keys` become current at once. The old current
  /// becomes previous; if an unconfirmed responder session was waiting, that one becomes
  /// previous instead (the peer may already send on it) and the old current goes.
  mutating func beginAsInitiator(_ keys: TransportKeys) -> [TransportKeys] {
    var dropped: [TransportKeys] = []
    if let waiting = next {
      next = nil
      if let current { dropped.append(current) }
      if let previous { dropped.append(previous) }
      previous = waiting
    } else {
      if let previous { dropped.append(previous) }
      previous = current
    }
    current = keys
    return dropped
  }

  /// We responded: `keys` wait in `next` for the initiator's first transport message. An
  /// older unconfirmed session and the previous one go; current keeps sending meanwhile.
  mutating func beginAsResponder(_ keys: TransportKeys) -> [TransportKeys] {
    let dropped = [next, previous].compactMap { $0 }
    next = keys
    previous = nil
    return dropped
  }

  /// A transport message opened with the session of `localIndex`: when that is `next`, it is
  /// confirmed and becomes current (the old current becomes previous). Returns the confirmed
  /// session and the dropped ones, or nil when nothing changed.
  mutating func confirm(localIndex: UInt32) -> (confirmed: TransportKeys, dropped: [TransportKeys])?
  {
    guard let waiting = next, waiting.localIndex == localIndex else { return nil }
    let dropped = [previous].compactMap { $0 }
    previous = current
    current = waiting
    next = nil
    return (waiting, dropped)
  }

  /// The current session reached REJECT_AFTER_TIME (`PeerTimers`' `.expireSession`): it goes,
  /// and with it any other session as old.
  mutating func expireCurrent(now: Duration) -> [TransportKeys] {
    var dropped = [current].compactMap { $0 }
    current = nil
    dropped += dropExpired(now: now)
    return dropped
  }

  /// Drops every session REJECT_AFTER_TIME old or older (none of them may send or receive).
  mutating func dropExpired(now: Duration) -> [TransportKeys] {
    var dropped: [TransportKeys] = []
    func expire(_ slot: inout TransportKeys?) {
      if let keys = slot, !Limits.mayReceive(sessionStarted: keys.created, now: now) {
        dropped.append(keys)
        slot = nil
      }
    }
    expire(&current)
    expire(&previous)
    expire(&next)
    return dropped
  }

  /// Every session goes (key erasure, peer removed).
  mutating func removeAll() -> [TransportKeys] {
    defer { self = PeerSessions() }
    return receiving
  }

  /// When the oldest session held reaches REJECT_AFTER_TIME; nil with none.
  var earliestExpiry: Duration? {
    receiving.map { $0.created + Limits.rejectAfterTime }.min()
  }
}
