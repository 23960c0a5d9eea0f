import Synchronization

/// A WireGuard peer as the forwarders see it, one object for the peer's life (every snapshot
/// that names the peer points at it). The forwarders report through it what the peer's timers
/// need — when a message was last sealed for it or opened from it, the bytes, and that packets
/// waited for a session — with relaxed atomics; the handshake thread reads them.
///
/// Times are CLOCK_MONOTONIC nanoseconds, taken once per forwarder batch (0: never).
public final class TunnelPeer: Sendable {
  /// The peer's public key in base64, for logs and status pages.
  public let name: String
  let lastSent = Atomic<UInt64>(0)
  let lastReceived = Atomic<UInt64>(0)
  /// Transport messages with a payload (not keepalives): the keepalive timer's input.
  let lastDataSent = Atomic<UInt64>(0)
  let lastDataReceived = Atomic<UInt64>(0)
  let bytesSent = Atomic<UInt64>(0)
  let bytesReceived = Atomic<UInt64>(0)
  /// A forwarder had a packet for this peer and no session that may send: set by the
  /// forwarder (which then wakes the handshake thread), taken by the handshake thread.
  let sessionWanted = Atomic<Bool>(false)
  /// Handshakes given up so far (REKEY_ATTEMPT_TIME passed unanswered): the forwarders drop
  /// the packets they staged for the peer before the latest one, as WireGuard purges its
  /// staged queue then, instead of holding them for a handshake that is not coming.
  let abandonments = Atomic<UInt32>(0)

  public init(name: String) {
    self.name = name
  }

  /// What the forwarders reported, as of now.
  public var activity: TunnelPeerActivity {
    TunnelPeerActivity(
      lastSent: lastSent.load(ordering: .relaxed),
      lastReceived: lastReceived.load(ordering: .relaxed),
      lastDataSent: lastDataSent.load(ordering: .relaxed),
      lastDataReceived: lastDataReceived.load(ordering: .relaxed),
      bytesSent: bytesSent.load(ordering: .relaxed),
      bytesReceived: bytesReceived.load(ordering: .relaxed))
  }

  /// True once after a forwarder found no session for a packet to this peer.
  public func takeSessionWanted() -> Bool {
    sessionWanted.exchange(false, ordering: .acquiringAndReleasing)
  }

  /// The handshake thread gave up on a handshake with the peer: packets staged for it until
  /// now are dropped (by each forwarder when it adopts its next snapshot).
  public func handshakeAbandoned() {
    abandonments.add(1, ordering: .releasing)
  }

  /// A message sealed for the peer by the handshake thread itself (a keepalive).
  public func recordSent(at now: UInt64, bytes: Int) {
    lastSent.store(now, ordering: .relaxed)
    bytesSent.add(UInt64(bytes), ordering: .relaxed)
  }

  /// Forwarder: a transport message of `bytes` plaintext bytes was sealed for the peer.
  @inline(__always)
  func sealed(at now: UInt64, bytes: Int) {
    if lastSent.load(ordering: .relaxed) != now {
      lastSent.store(now, ordering: .relaxed)
      lastDataSent.store(now, ordering: .relaxed)
    }
    bytesSent.add(UInt64(bytes), ordering: .relaxed)
  }

  /// Forwarder: a transport message was opened from the peer (`bytes` 0: a keepalive).
  @inline(__always)
  func opened(at now: UInt64, bytes: Int) {
    if lastReceived.load(ordering: .relaxed) != now { lastReceived.store(now, ordering: .relaxed) }
    guard bytes > 0 else { return }
    if lastDataReceived.load(ordering: .relaxed) != now {
      lastDataReceived.store(now, ordering: .relaxed)
    }
    bytesReceived.add(UInt64(bytes), ordering: .relaxed)
  }
}

/// A peer's data-path activity at one moment (CLOCK_MONOTONIC nanoseconds, 0: never).
public struct TunnelPeerActivity: Sendable, Equatable {
  public var lastSent: UInt64
  public var lastReceived: UInt64
  public var lastDataSent: UInt64
  public var lastDataReceived: UInt64
  public var bytesSent: UInt64
  public var bytesReceived: UInt64

  /// Nothing yet.
  public static let none = TunnelPeerActivity(
    lastSent: 0, lastReceived: 0, lastDataSent: 0, lastDataReceived: 0, bytesSent: 0,
    bytesReceived: 0)
}
