import Synchronization
import WireGuard

/// One WireGuard session (the keys of one completed handshake) as the forwarders use it. The
/// keys are shared; the cipher contexts are not (each forwarder makes its own when a snapshot
/// brings the session). Every forwarder that seals on the session takes its counters from
/// `nextCounter`, so no counter is used twice.
///
/// The replay window is written by one forwarder only: with several workers the socket group
/// is steered by receiver index (`ReusePortSteering.receiverIndexProgram`), so every message
/// for this session's local index reaches the same worker; with one worker there is one
/// writer anyway.
public final class TunnelSession: @unchecked Sendable {
  // @unchecked: `replay` is touched only by the one forwarder that receives this session's
  // messages (see above); everything else is immutable or atomic.
  public let keys: TransportKeys
  public let peer: TunnelPeer
  /// CLOCK_MONOTONIC nanoseconds after which the session neither seals nor opens
  /// (REJECT_AFTER_TIME from the handshake; `keys.created` is on the same clock).
  let rejectAfter: UInt64
  let nextCounter = Atomic<UInt64>(0)
  /// A message was opened with this session: for the responder, the initiator's
  /// confirmation that lets it send.
  let received = Atomic<Bool>(false)
  let replay: UnsafeMutablePointer<ReplayWindow>

  /// `keys.created` must be a CLOCK_MONOTONIC time (what `MonotonicClock` reads).
  public init(keys: TransportKeys, peer: TunnelPeer) {
    self.keys = keys
    self.peer = peer
    let created = keys.created.components
    let nanoseconds =
      UInt64(max(created.seconds, 0)) &* 1_000_000_000
      &+ UInt64(max(created.attoseconds, 0) / 1_000_000_000)
    let limit = Limits.rejectAfterTime.components.seconds
    rejectAfter = nanoseconds &+ UInt64(limit) &* 1_000_000_000
    replay = .allocate(capacity: 1)
    replay.initialize(to: ReplayWindow())
  }

  deinit {
    replay.deinitialize(count: 1)
    replay.deallocate()
  }

  /// Messages sealed so far (the next counter).
  public var messagesSent: UInt64 { nextCounter.load(ordering: .relaxed) }

  /// Whether the session may still seal at `now` (CLOCK_MONOTONIC ns): REJECT_AFTER_TIME.
  public func maySend(now: UInt64) -> Bool { now < rejectAfter }

  /// Whether a message from the peer has opened with this session.
  public var hasReceived: Bool { received.load(ordering: .acquiring) }

  /// Takes the counter for one message sealed outside the forwarders (a keepalive), or nil
  /// when the session has used up its counters.
  public func reserveCounter() -> UInt64? {
    let counter = nextCounter.wrappingAdd(1, ordering: .relaxed).oldValue
    return counter < Limits.rejectAfterMessages ? counter : nil
  }
}
