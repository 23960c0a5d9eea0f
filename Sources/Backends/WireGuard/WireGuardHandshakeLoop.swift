import DataPlane
import FlannelCore
import Foundation
import Logging
import Synchronization
import WireGuard

/// The wireguard backend's handshake thread: owns the `HandshakeDevice` (every peer's
/// handshake, timers and sessions) and drives it from what the forwarders hand over through
/// the `HandshakeInbox` (handshake messages, "a peer needs a session", "a responder session
/// got its first message") and from the peers' activity the forwarders record; sends the
/// handshake messages and keepalives itself on the backend's socket; and publishes every
/// change of sessions or endpoints to the forwarders as a new `TunnelSnapshot`.
///
/// Thread confinement (why `@unchecked Sendable` is sound): everything but `commands`,
/// `statusBox` and the immutable references is touched only by the loop's thread, which
/// `start()` creates and `stop()` joins.
final class WireGuardHandshakeLoop: @unchecked Sendable {
  /// Handshake messages drained at once from which on the device is "under load" (answers
  /// initiations without a valid mac2 with cookie replies), as wireguard-go counts an eighth
  /// of its queue.
  static let underLoadDepth = HandshakeInbox.capacity / 8
  /// How long the device stays under load after the queue was last that deep (wireguard-go's
  /// UnderLoadAfterTime): a flood that the thread keeps up with for a moment still meets
  /// cookies, not Diffie-Hellman work.
  static let underLoadHold: Duration = .seconds(1)
  /// How often the peers' activity is read when nothing else wakes the thread.
  static let activityPoll: Duration = .milliseconds(250)

  let inbox: HandshakeInbox
  private let device: HandshakeDevice
  private let forwarders: [Forwarder]
  /// Where handshake messages and keepalives go out: the backend port's socket.
  private let socketFD: Int32
  private let presharedKey: SecretKey?
  private let persistentKeepalive: Duration
  private let logger: Logger

  private struct Commands {
    var peers: [WireGuardLeasePeer]?
    var stop = false
  }
  private let commands = Mutex(Commands())
  private let statusBox = Mutex<[WireGuardPeerStatus]>([])
  private let finished = DispatchSemaphore(value: 0)
  private let started = Mutex(false)

  /// One peer as the loop keeps it.
  private struct Peer {
    var lease: WireGuardLeasePeer
    let tunnel: TunnelPeer
    var endpoint: Endpoint
    var sending: TunnelSession?
    var receiving: [TunnelSession] = []
    var seen = TunnelPeerActivity.none
    /// Local indices whose first received message was reported (confirmation).
    var confirmed: Set<UInt32> = []
    /// Sessions that became the sending one (handshakes and rekeys).
    var handshakes = 0
  }
  private var peers: [PublicKey: Peer] = [:]
  /// The data path's object for each session, by its keys: kept while any peer has it, so
  /// that counters and the replay window survive new snapshots.
  private var sessions: [ObjectIdentifier: TunnelSession] = [:]
  /// This thread's sealers, for keepalives.
  private var sealers: [ObjectIdentifier: ChaCha20Poly1305Key] = [:]
  private var snapshotDirty = false

  init(
    identity: StaticIdentity, inbox: HandshakeInbox, forwarders: [Forwarder], socketFD: Int32,
    presharedKey: SecretKey?, persistentKeepalive: Duration, logger: Logger
  ) {
    self.inbox = inbox
    self.forwarders = forwarders
    self.socketFD = socketFD
    self.presharedKey = presharedKey
    self.persistentKeepalive = persistentKeepalive
    self.logger = logger
    device = HandshakeDevice(
      identity: identity, sources: Self.sources(workers: forwarders.count))
  }

  /// The system's randomness, with local indices chosen so that all of a peer's sessions
  /// steer to one worker: a UDP GRO train from the peer (one flow, whatever sessions its
  /// messages belong to) then lands where every one of them is opened.
  static func sources(workers: Int) -> HandshakeDeviceSources {
    var sources = HandshakeDeviceSources.system()
    guard workers > 1 else { return sources }
    sources.index = { peer in
      let preferred = Int(peer.bytes[0]) % workers
      var generator = SystemRandomNumberGenerator()
      while true {
        let index = UInt32.random(in: .min ... .max, using: &generator)
        if ReusePortSteering.worker(forReceiverIndex: index, groupSize: workers) == preferred {
          return index
        }
      }
    }
    return sources
  }

  /// Starts the thread.
  func start() {
    started.withLock { $0 = true }
    let thread = Thread { [self] in
      run()
      finished.signal()
    }
    thread.name = "flannel-wg-hs"
    thread.start()
  }

  /// Any thread: the peers from now on (the whole set).
  func setPeers(_ peers: [WireGuardLeasePeer]) {
    commands.withLock { $0.peers = peers }
    inbox.signal()
  }

  /// Stops the thread and waits for it. Idempotent.
  func stop() {
    let wasStarted = started.withLock { s in
      defer { s = false }
      return s
    }
    guard wasStarted else { return }
    commands.withLock { $0.stop = true }
    inbox.signal()
    finished.wait()
  }

  /// The peers as of the loop's last pass (for /metrics and the status page).
  var status: [WireGuardPeerStatus] { statusBox.withLock { $0 } }

  /// The device's counters are read on the loop's thread and published with the status.
  private let countersBox = Mutex(HandshakeCounters())
  var counters: HandshakeCounters { countersBox.withLock { $0 } }

  // MARK: The loop (its own thread)

  private func run() {
    var lastStatus: Duration = .zero
    var underLoadUntil: Duration = .zero
    while true {
      let now = MonotonicClock.now()
      var wait = Self.activityPoll
      if let deadline = device.nextDeadline { wait = min(wait, max(deadline - now, .zero)) }
      let milliseconds = Int32(clamping: Int64((wait / .milliseconds(1)).rounded(.up)))
      inbox.wait(milliseconds: milliseconds)

      let pending = commands.withLock { c -> Commands in
        defer { c.peers = nil }
        return c
      }
      if pending.stop { break }
      let time = MonotonicClock.now()
      if let next = pending.peers { handle(configure(next, now: time), now: time) }
      let messages = inbox.drain()
      if messages.count >= Self.underLoadDepth { underLoadUntil = time + Self.underLoadHold }
      let underLoad = time < underLoadUntil
      for message in messages {
        let source = Endpoint(address: message.sourceAddress, port: message.sourcePort)
        let outputs = message.bytes.withUnsafeBytes {
          device.receive($0, from: source, now: time, underLoad: underLoad)
        }
        handle(outputs, now: time)
      }
      reportDataPath(now: time)
      handle(device.tick(now: time), now: time)
      if snapshotDirty { publish() }
      if time - lastStatus >= .seconds(1) || !messages.isEmpty {
        publishStatus(now: time)
        lastStatus = time
      }
    }
  }

  /// Tells the device what changed in the peer set; keeps each remaining peer's data-path
  /// object.
  private func configure(_ leases: [WireGuardLeasePeer], now: Duration) -> [HandshakeOutput] {
    var next: [PublicKey: Peer] = [:]
    for lease in leases {
      if var peer = peers[lease.publicKey] {
        // A roamed endpoint stays until the lease itself names another one.
        if peer.lease.endpoint != lease.endpoint { peer.endpoint = lease.endpoint }
        peer.lease = lease
        next[lease.publicKey] = peer
      } else {
        next[lease.publicKey] = Peer(
          lease: lease, tunnel: TunnelPeer(name: lease.publicKey.base64Text),
          endpoint: lease.endpoint)
      }
    }
    let previous = peers
    peers = next
    prune()
    snapshotDirty = true
    // The device hears of the changes only: one lease event costs it one peer's work, not
    // the whole table's.
    var outputs: [HandshakeOutput] = []
    for key in previous.keys where next[key] == nil {
      outputs += device.removePeer(key)
    }
    for lease in leases where previous[lease.publicKey]?.lease != lease {
      outputs += device.addOrUpdatePeer(
        WireGuardPeerConfig(
          publicKey: lease.publicKey, presharedKey: presharedKey, endpoint: lease.endpoint,
          persistentKeepalive: persistentKeepalive), now: now)
    }
    return outputs
  }

  /// What the forwarders recorded since the last pass, as the device's events.
  private func reportDataPath(now: Duration) {
    for key in Array(peers.keys) {
      guard var peer = peers[key] else { continue }
      if peer.tunnel.takeSessionWanted() {
        handle(device.sendRequested(peer: key, now: now), now: now)
      }
      for session in peer.receiving
      where session.hasReceived && !peer.confirmed.contains(session.keys.localIndex) {
        peer.confirmed.insert(session.keys.localIndex)
        peers[key] = peer
        handle(
          device.transportReceived(
            peer: key, localIndex: session.keys.localIndex, keepalive: false, now: now), now: now)
      }
      guard var current = peers[key] else { continue }
      let activity = current.tunnel.activity
      let seen = current.seen
      current.seen = activity
      peers[key] = current
      if activity.lastReceived != seen.lastReceived,
        let index = current.sending?.keys.localIndex ?? current.receiving.first?.keys.localIndex
      {
        handle(
          device.transportReceived(
            peer: key, localIndex: index,
            keepalive: activity.lastDataReceived == seen.lastDataReceived, now: now), now: now)
      }
      if activity.lastSent != seen.lastSent, let sending = current.sending {
        handle(
          device.transportSent(
            peer: key, keepalive: activity.lastDataSent == seen.lastDataSent,
            counter: max(sending.messagesSent, 1) - 1, now: now), now: now)
      }
    }
  }

  private func handle(_ outputs: [HandshakeOutput], now: Duration) {
    for output in outputs {
      switch output {
      case .send(let bytes, let endpoint):
        send(bytes, to: endpoint)
      case .sessionsChanged(let key, let sending, let receiving):
        sessionsChanged(key, sending: sending, receiving: receiving)
      case .sendKeepalive(let key):
        sendKeepalive(to: key, now: now)
      case .endpointChanged(let key, let endpoint):
        peers[key]?.endpoint = endpoint
        snapshotDirty = true
      case .handshakeAbandoned(let key):
        // The packets the forwarders staged for the peer are dropped when they adopt the
        // next snapshot (WireGuard purges its staged queue here too).
        peers[key]?.tunnel.handshakeAbandoned()
        snapshotDirty = true
        logger.debug(
          "wireguard backend: handshake with \(key.base64Text) unanswered, abandoned")
      case .peerRefused(let key, let error):
        logger.warning(
          "wireguard backend: peer \(key.base64Text) left out: \(error)")
      }
    }
  }

  private func sessionsChanged(
    _ key: PublicKey, sending: TransportKeys?, receiving: [TransportKeys]
  ) {
    guard var peer = peers[key] else { return }
    func session(_ keys: TransportKeys) -> TunnelSession {
      let id = ObjectIdentifier(keys)
      if let found = sessions[id] { return found }
      let made = TunnelSession(keys: keys, peer: peer.tunnel)
      sessions[id] = made
      return made
    }
    let previous = peer.sending.map { ObjectIdentifier($0.keys) }
    peer.sending = sending.map(session)
    peer.receiving = receiving.map(session)
    if let sending, ObjectIdentifier(sending) != previous { peer.handshakes += 1 }
    let live = Set(peer.receiving.map { $0.keys.localIndex })
    peer.confirmed.formIntersection(live)
    // A session we initiated is confirmed by its own response: no report needed for it.
    if let sending = peer.sending, sending.keys.isInitiator {
      peer.confirmed.insert(sending.keys.localIndex)
    }
    peers[key] = peer
    prune()
    snapshotDirty = true
  }

  /// Drops the sessions (and this thread's sealers: key material) no peer holds any more.
  private func prune() {
    let referenced = Set(
      peers.values.flatMap { $0.receiving + ($0.sending.map { [$0] } ?? []) }.map {
        ObjectIdentifier($0.keys)
      })
    sessions = sessions.filter { referenced.contains($0.key) }
    sealers = sealers.filter { referenced.contains($0.key) }
  }

  /// An empty transport message on the peer's current session, sealed here.
  private func sendKeepalive(to key: PublicKey, now: Duration) {
    guard let peer = peers[key], let session = peer.sending,
      session.maySend(now: MonotonicClock.nanoseconds()), let counter = session.reserveCounter()
    else { return }
    let id = ObjectIdentifier(session.keys)
    let sealer = sealers[id] ?? session.keys.makeSealer()
    sealers[id] = sealer
    var message = [UInt8](repeating: 0, count: TransportLayout.minimumSize)
    let sealed = message.withUnsafeMutableBytes { buffer -> Bool in
      TransportMessage.writeHeader(
        into: buffer, receiverIndex: session.keys.remoteIndex, counter: counter)
      return sealer.seal(
        buffer.baseAddress! + TransportLayout.headerSize, length: 0, counter: counter)
    }
    guard sealed else { return }
    send(message, to: peer.endpoint)
    peer.tunnel.recordSent(at: MonotonicClock.nanoseconds(), bytes: 0)
    handle(
      device.transportSent(peer: key, keepalive: true, counter: counter, now: now), now: now)
    // This send is reported already; what the forwarders recorded meanwhile is still to be.
    peers[key]?.seen.lastSent = peer.tunnel.activity.lastSent
  }

  private func send(_ bytes: [UInt8], to endpoint: Endpoint) {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = endpoint.port.bigEndian
    address.sin_addr.s_addr = endpoint.address.bigEndian
    let sent = bytes.withUnsafeBytes { buffer in
      withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(
            socketFD, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT), $0,
            socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    }
    if sent < 0 {
      logger.debug("wireguard backend: sending a handshake message to \(endpoint): errno \(errno)")
    }
  }

  private func publish() {
    snapshotDirty = false
    let snapshot = TunnelSnapshot(
      peers.values.sorted { $0.lease.subnet.address.value < $1.lease.subnet.address.value }.map {
        TunnelSnapshot.Peer(
          peer: $0.tunnel, endpointAddress: $0.endpoint.address, endpointPort: $0.endpoint.port,
          allowedNetwork: $0.lease.subnet.address.value,
          allowedPrefixLength: $0.lease.subnet.prefixLength, sending: $0.sending,
          receiving: $0.receiving)
      })
    for forwarder in forwarders { forwarder.update(tunnel: snapshot) }
  }

  private func publishStatus(now: Duration) {
    let lines = peers.values.map { peer -> WireGuardPeerStatus in
      let status = device.peerStatus(peer.lease.publicKey)
      return WireGuardPeerStatus(
        publicKey: peer.tunnel.name, endpoint: peer.endpoint.description,
        allowedIPs: peer.lease.subnet.description,
        handshakeAge: status?.lastHandshake.map { now - $0 },
        activity: peer.tunnel.activity, handshakes: peer.handshakes,
        persistentKeepalive: persistentKeepalive)
    }.sorted { $0.allowedIPs < $1.allowedIPs }
    statusBox.withLock { $0 = lines }
    countersBox.withLock { $0 = device.counters }
  }
}

/// One peer as `wg show` would print it, as of the handshake thread's last pass.
struct WireGuardPeerStatus: Sendable, Equatable {
  var publicKey: String
  var endpoint: String
  var allowedIPs: String
  /// Time since the last completed handshake (nil: none yet).
  var handshakeAge: Duration?
  var activity: TunnelPeerActivity
  var handshakes: Int
  var persistentKeepalive: Duration
}

extension PublicKey {
  /// The key as `wg` and leases print it.
  var base64Text: String { WireGuardKey(bytes: bytes)?.base64 ?? "(invalid key)" }
}
