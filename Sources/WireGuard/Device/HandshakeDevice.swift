/// The handshake side of a WireGuard device, pure: for every configured peer its
/// `PeerHandshake`, `PeerTimers` and sessions (`PeerSessions`), the device's
/// `StaticIdentity` and `CookieChecker`, and the table of local indices.
///
/// One thread drives it (not thread-safe) and carries out what each call returns
/// (`HandshakeOutput`): datagrams to send, the sessions to publish to the data path,
/// keepalives to send. No sockets, threads or clock reads: `now` is a monotonic time from
/// an origin the caller picks (the same for every call), randomness and the wall-clock
/// initiation timestamp come from `HandshakeDeviceSources`. Call `tick` at `nextDeadline`.
///
/// Roaming: a peer's endpoint starts as configured; an authenticated handshake message from
/// it (an accepted initiation or response), or a transport message the data path reports
/// with its source, moves it to that source (`.endpointChanged`), as the kernel module and
/// wireguard-go do. A new configured endpoint (`setPeers`) replaces it again.
public final class HandshakeDevice {
  public let identity: StaticIdentity
  let cookieChecker: CookieChecker
  var sources: HandshakeDeviceSources
  var peers: [PublicKey: DevicePeer] = [:]
  var indices = IndexTable()
  var deadlines = DeadlineQueue()
  var rateLimiter = HandshakeRateLimiter()
  public internal(set) var counters = HandshakeCounters()

  public init(identity: StaticIdentity, sources: HandshakeDeviceSources = .system()) {
    self.identity = identity
    cookieChecker = CookieChecker(identity: identity)
    self.sources = sources
  }

  // MARK: Configuration

  /// Makes `configs` the device's peers: adds the new ones, updates changed ones (endpoint,
  /// preshared key, persistent keepalive) and removes the others, erasing their sessions and
  /// freeing their indices. A refused entry (`.peerRefused`) is left out; the rest apply.
  public func setPeers(_ configs: [WireGuardPeerConfig], now: Duration) -> [HandshakeOutput] {
    var outputs: [HandshakeOutput] = []
    var wanted: [WireGuardPeerConfig] = []
    var seen = Set<PublicKey>()
    for config in configs {
      if config.publicKey == identity.publicKey {
        outputs.append(.peerRefused(peer: config.publicKey, .ownPublicKey))
      } else if !seen.insert(config.publicKey).inserted {
        outputs.append(.peerRefused(peer: config.publicKey, .duplicatePublicKey))
      } else {
        wanted.append(config)
      }
    }
    for (key, peer) in peers where !seen.contains(key) {
      outputs += remove(peer)
    }
    for config in wanted {
      outputs += addOrUpdatePeer(config, now: now)
    }
    return outputs
  }

  /// Adds one peer or updates it (endpoint, preshared key, persistent keepalive): the delta
  /// form of `setPeers`, for one lease event. The same refusals apply.
  public func addOrUpdatePeer(_ config: WireGuardPeerConfig, now: Duration) -> [HandshakeOutput] {
    if config.publicKey == identity.publicKey {
      return [.peerRefused(peer: config.publicKey, .ownPublicKey)]
    }
    if let peer = peers[config.publicKey] { return update(peer, to: config, now: now) }
    return add(config, now: now)
  }

  /// Removes one peer, erasing its sessions and freeing its indices (nothing when it is not
  /// configured).
  public func removePeer(_ key: PublicKey) -> [HandshakeOutput] {
    guard let peer = peers[key] else { return [] }
    return remove(peer)
  }

  private func add(_ config: WireGuardPeerConfig, now: Duration) -> [HandshakeOutput] {
    let handshake: PeerHandshake
    do {
      handshake = try PeerHandshake(
        identity: identity, remoteStatic: config.publicKey, presharedKey: config.presharedKey)
    } catch {
      return [.peerRefused(peer: config.publicKey, .invalidPublicKey)]
    }
    let peer = DevicePeer(config: config, handshake: handshake)
    peers[config.publicKey] = peer
    let actions = peer.timers.handle(.peerAdded, at: now)
    return perform(actions, for: peer, now: now)
  }

  private func update(_ peer: DevicePeer, to config: WireGuardPeerConfig, now: Duration)
    -> [HandshakeOutput]
  {
    guard peer.config != config else { return [] }
    var outputs: [HandshakeOutput] = []
    let old = peer.config
    peer.config = config
    if config.endpoint != old.endpoint, config.endpoint != peer.endpoint {
      peer.endpoint = config.endpoint
      outputs.append(.endpointChanged(peer: peer.publicKey, to: config.endpoint))
    }
    if !WireGuardPeerConfig.samePresharedKey(config.presharedKey, old.presharedKey) {
      // The handshake in progress used the old key: it cannot complete.
      peer.handshake.setPresharedKey(config.presharedKey)
      freePendingInitiation(of: peer)
    }
    if config.persistentKeepalive != old.persistentKeepalive {
      let actions = peer.timers.setPersistentKeepalive(config.persistentKeepalive, at: now)
      outputs += perform(actions, for: peer, now: now)
    } else {
      reschedule(peer)
    }
    return outputs
  }

  private func remove(_ peer: DevicePeer) -> [HandshakeOutput] {
    peers[peer.publicKey] = nil
    peer.handshake.reset()
    freePendingInitiation(of: peer)
    guard !peer.sessions.isEmpty else { return [] }
    free(peer.sessions.removeAll())
    return [peer.sessionsChanged]
  }

  // MARK: Reports from the data path

  /// The data path has packets for `peer` and no session that may send them: starts a
  /// handshake unless one was started less than REKEY_TIMEOUT ago.
  public func sendRequested(peer key: PublicKey, now: Duration) -> [HandshakeOutput] {
    guard let peer = peers[key] else { return [] }
    return perform(peer.timers.handle(.sendWithoutSession, at: now), for: peer, now: now)
  }

  /// The data path sealed and sent a transport message to `peer` on its current session
  /// (`keepalive`: an empty one; `counter`: the counter it used). Reporting the last of a
  /// batch is enough.
  public func transportSent(peer key: PublicKey, keepalive: Bool, counter: UInt64, now: Duration)
    -> [HandshakeOutput]
  {
    guard let peer = peers[key] else { return [] }
    let event = PeerTimerEvent.transportSent(
      keepalive: keepalive, counter: counter, jitter: sources.jitter())
    return perform(peer.timers.handle(event, at: now), for: peer, now: now)
  }

  /// The data path opened a transport message from `peer` with the session of `localIndex`
  /// (`keepalive`: empty). The first one on an unconfirmed responder session confirms it:
  /// it becomes the current session (`.sessionsChanged`). `source`, when given, is where the
  /// message came from (roaming). Reporting the last of a batch is enough, as long as a
  /// message on a new index is reported.
  public func transportReceived(
    peer key: PublicKey, localIndex: UInt32, keepalive: Bool, from source: Endpoint? = nil,
    now: Duration
  ) -> [HandshakeOutput] {
    guard let peer = peers[key] else { return [] }
    var outputs: [HandshakeOutput] = []
    var actions: PeerTimerActions = []
    if let (confirmed, dropped) = peer.sessions.confirm(localIndex: localIndex) {
      free(dropped)
      peer.lastHandshake = now
      actions.formUnion(
        peer.timers.handle(
          .sessionStarted(isInitiator: false, keysCreated: confirmed.created), at: now))
      actions.formUnion(peer.timers.handle(.handshakeCompleted, at: now))
      outputs.append(peer.sessionsChanged)
    }
    if let source { outputs += roam(peer, to: source) }
    actions.formUnion(peer.timers.handle(.transportReceived(keepalive: keepalive), at: now))
    return outputs + perform(actions, for: peer, now: now)
  }

  // MARK: Time

  /// Fires every timer due at `now` and drops sessions that reached REJECT_AFTER_TIME.
  public func tick(now: Duration) -> [HandshakeOutput] {
    var due: [DevicePeer] = []
    while let entry = deadlines.first, entry.deadline <= now {
      deadlines.removeFirst()
      guard let peer = peers[entry.peer], peer.scheduled == entry.deadline else { continue }
      peer.scheduled = nil
      due.append(peer)
    }
    var outputs: [HandshakeOutput] = []
    for peer in due {
      let actions = peer.timers.tick(now)
      let expired = peer.sessions.dropExpired(now: now)
      if !expired.isEmpty {
        free(expired)
        outputs.append(peer.sessionsChanged)
      }
      outputs += perform(actions, for: peer, now: now)
    }
    return outputs
  }

  /// When `tick` must run next; nil when nothing is pending.
  public var nextDeadline: Duration? {
    while let entry = deadlines.first {
      if let peer = peers[entry.peer], peer.scheduled == entry.deadline { return entry.deadline }
      deadlines.removeFirst()
    }
    return nil
  }

  // MARK: Status

  /// The configured peers' public keys.
  public var peerKeys: [PublicKey] { Array(peers.keys) }

  /// `wg show`-like state of one peer; nil when it is not configured.
  public func peerStatus(_ key: PublicKey) -> PeerStatus? { peers[key]?.status }

  /// The local indices in use (handshakes awaiting a response and sessions).
  public var localIndexCount: Int { indices.count }

  // MARK: Shared steps

  func free(_ sessions: [TransportKeys]) {
    for keys in sessions { indices.free(keys.localIndex) }
  }

  func freePendingInitiation(of peer: DevicePeer) {
    if let index = peer.pendingInitiationIndex {
      indices.free(index)
      peer.pendingInitiationIndex = nil
    }
  }

  /// Follows the peer to `source` after an authenticated message from there.
  func roam(_ peer: DevicePeer, to source: Endpoint) -> [HandshakeOutput] {
    guard source != peer.endpoint else { return [] }
    peer.endpoint = source
    return [.endpointChanged(peer: peer.publicKey, to: source)]
  }

  /// Queues the peer's deadline when it changed. The entry of the old one stays in the queue
  /// and is skipped when it comes up (it no longer matches `scheduled`), so that
  /// `nextDeadline` is exact.
  func reschedule(_ peer: DevicePeer) {
    guard let deadline = peer.deadline else {
      peer.scheduled = nil
      return
    }
    if peer.scheduled == deadline { return }
    peer.scheduled = deadline
    deadlines.insert(deadline, peer.publicKey)
    if deadlines.count > 2 * peers.count + 64 { rebuildDeadlines() }
  }

  /// Drops stale entries (peers that moved their deadline earlier many times, or left).
  private func rebuildDeadlines() {
    deadlines.removeAll()
    for peer in peers.values {
      if let scheduled = peer.scheduled { deadlines.insert(scheduled, peer.publicKey) }
    }
  }
}
