/// Everything the device keeps for one configured peer: its handshake, timers, sessions and
/// where to reach it. Owned and mutated by its `HandshakeDevice` only.
final class DevicePeer {
  var config: WireGuardPeerConfig
  let handshake: PeerHandshake
  var timers: PeerTimers
  var sessions = PeerSessions()
  /// Where handshake messages go: the configured endpoint until the peer roams.
  var endpoint: Endpoint
  /// The local index of the initiation we sent and await the response to.
  var pendingInitiationIndex: UInt32?
  var lastHandshake: Duration?
  /// The deadline this peer has in the device's `DeadlineQueue` (nil: none queued).
  var scheduled: Duration?

  var publicKey: PublicKey { config.publicKey }

  init(config: WireGuardPeerConfig, handshake: PeerHandshake) {
    self.config = config
    self.handshake = handshake
    timers = PeerTimers(persistentKeepalive: config.persistentKeepalive)
    endpoint = config.endpoint
  }

  /// When `tick` must next look at this peer: a timer, or the expiry of a session.
  var deadline: Duration? {
    [timers.nextDeadline, sessions.earliestExpiry].compactMap { $0 }.min()
  }

  var sessionsChanged: HandshakeOutput {
    .sessionsChanged(peer: publicKey, sending: sessions.sending, receiving: sessions.receiving)
  }

  var status: PeerStatus {
    PeerStatus(
      publicKey: publicKey, endpoint: endpoint, lastHandshake: lastHandshake,
      sendingIndex: sessions.sending?.localIndex,
      receivingIndices: sessions.receiving.map(\.localIndex),
      initiationPending: pendingInitiationIndex != nil,
      persistentKeepalive: timers.persistentKeepalive)
  }
}
