import WireGuard

/// The WireGuard step of one forwarder's pipelines: seals a packet read from the TUN into a
/// transport message in place (header in the buffer's headroom, padding and tag behind the
/// packet) and opens a received transport message in place; hands handshake messages to the
/// handshake thread. Forwarder thread only.
///
/// Cipher contexts are per forwarder (`ChaCha20Poly1305Key` is not Sendable): made when a
/// snapshot brings a session, kept while snapshots keep it. Per packet: no allocation, no
/// lock, no retain (the contexts and sessions are reached through unretained references the
/// snapshot and `contexts` keep alive).
final class TunnelCodec {
  /// Bytes the TUN buffers keep free before each packet for the transport header.
  static let headroom = TransportLayout.headerSize
  /// `seal`'s answer for a packet that must wait for a session: stage it (`stage`).
  static let mustStage = -1
  let exchange: SnapshotExchange<TunnelSnapshot>
  let inbox: HandshakeInbox
  let bank: CounterBank
  /// The tunnel's MTU: plaintexts are padded to a multiple of 16, never past it.
  let mtu: Int
  /// This forwarder's place in the socket group, and the group's size (`TunnelSettings`).
  let worker: Int
  let workers: Int
  /// This batch's CLOCK_MONOTONIC time.
  var now: UInt64 = 0
  private var cached: UInt = 0
  private(set) var snapshot = TunnelSnapshot.empty
  private struct Contexts {
    let sealer: ChaCha20Poly1305Key
    let opener: ChaCha20Poly1305Key
  }
  /// By session: this forwarder's contexts for the sessions the current snapshot has.
  private var contexts: [ObjectIdentifier: Contexts] = [:]
  /// Per peer position (sealers) and per receive entry (openers) of the current snapshot.
  private var sealers: UnsafeMutablePointer<Unmanaged<ChaCha20Poly1305Key>?>
  private var openers: UnsafeMutablePointer<Unmanaged<ChaCha20Poly1305Key>>
  /// Per receive entry: whether this worker keeps the session's replay window (its local
  /// index steers here). The reuseport program sees only the first datagram of a UDP GRO
  /// train, so a train that mixes sessions (a peer's burst across a rekey, or a forged one)
  /// can bring another worker's session here: its messages are dropped, never opened, so
  /// that each replay window has one writer.
  private var owned: UnsafeMutablePointer<Bool>
  /// Packets waiting for a session (their TUN buffers held), per peer position of `snapshot`.
  let staging: StagedPackets
  /// Filled when a snapshot is adopted, emptied by the pipeline (`releaseStaged`): the buffers
  /// of staged packets dropped (peer gone, handshake abandoned), and the peers whose staged
  /// packets may go now. Both at most `staging.capacity` long.
  private let discarded: UnsafeMutablePointer<Int32>
  private var discardedCount = 0
  private var discardedNext = 0
  private let ready: UnsafeMutablePointer<Int32>
  private var readyCount = 0
  private var readyNext = 0
  /// Set by the pipeline while it seals staged packets: they are never staged again.
  var releasing = false

  /// `stagingCapacity`: TUN buffers this forwarder may hold for packets waiting for a session.
  init(
    exchange: SnapshotExchange<TunnelSnapshot>, inbox: HandshakeInbox, bank: CounterBank,
    mtu: Int, worker: Int = 0, workers: Int = 1, stagingCapacity: Int = 4
  ) {
    staging = StagedPackets(capacity: stagingCapacity)
    discarded = .allocate(capacity: staging.capacity)
    ready = .allocate(capacity: staging.capacity)
    self.exchange = exchange
    self.inbox = inbox
    self.bank = bank
    self.mtu = mtu
    self.worker = worker
    self.workers = workers
    sealers = .allocate(capacity: 1)
    openers = .allocate(capacity: 1)
    owned = .allocate(capacity: 1)
  }

  deinit {
    sealers.deallocate()
    openers.deallocate()
    owned.deallocate()
    discarded.deallocate()
    ready.deallocate()
  }

  /// Once per batch: the time, and the newest snapshot (its routes are what this batch routes
  /// with). Contexts are made here when sessions appear, never per packet.
  @inline(__always)
  func refresh(now: UInt64) -> RouteSnapshot {
    self.now = now
    let latest = exchange.acquire(cached: cached)
    if latest != cached {
      cached = latest
      adopt(exchange.snapshot(latest))
    }
    return snapshot.routes
  }

  @inline(never)
  private func adopt(_ next: TunnelSnapshot) {
    var kept: [ObjectIdentifier: Contexts] = [:]
    func made(for session: TunnelSession) -> Contexts {
      let key = ObjectIdentifier(session)
      if let found = kept[key] { return found }
      let found =
        contexts[key]
        ?? Contexts(sealer: session.keys.makeSealer(), opener: session.keys.makeOpener())
      kept[key] = found
      return found
    }
    let newSealers = UnsafeMutablePointer<Unmanaged<ChaCha20Poly1305Key>?>.allocate(
      capacity: max(next.peers.count, 1))
    for position in next.peers.indices {
      newSealers[position] = next.peers[position].sending.map {
        Unmanaged.passUnretained(made(for: $0).sealer)
      }
    }
    let newOpeners = UnsafeMutablePointer<Unmanaged<ChaCha20Poly1305Key>>.allocate(
      capacity: max(next.receiveCount, 1))
    let newOwned = UnsafeMutablePointer<Bool>.allocate(capacity: max(next.receiveCount, 1))
    for entry in 0..<next.receiveCount {
      let session = next.receiveSessions[entry].takeUnretainedValue()
      newOpeners[entry] = Unmanaged.passUnretained(made(for: session).opener)
      newOwned[entry] =
        workers <= 1
        || ReusePortSteering.worker(
          forReceiverIndex: session.keys.localIndex, groupSize: workers) == worker
    }
    sealers.deallocate()
    openers.deallocate()
    owned.deallocate()
    sealers = newSealers
    openers = newOpeners
    owned = newOwned
    contexts = kept
    let previous = snapshot
    snapshot = next
    carryStaged(from: previous)
  }

  /// The staged packets follow their peers into the adopted snapshot. Dropped: those of a
  /// peer no longer in it (its lease went), with no route any more, or whose handshake was
  /// given up since they were staged. Those of a peer that has a sending session now are
  /// ready to go (`takeReady`).
  @inline(never)
  private func carryStaged(from previous: TunnelSnapshot) {
    readyCount = 0
    readyNext = 0
    guard !staging.isEmpty else {
      staging.remap(peers: snapshot.peers.count, newPosition: { _ in -1 }, discarded: { _ in })
      return
    }
    var positions: [ObjectIdentifier: Int] = [:]
    for position in snapshot.peers.indices {
      positions[ObjectIdentifier(snapshot.peerObject(position))] = position
    }
    staging.remap(
      peers: snapshot.peers.count,
      newPosition: { positions[ObjectIdentifier(previous.peerObject($0))] ?? -1 },
      discarded: {
        bank.add(.tunnelStagedPeerGone)
        discard($0)
      })
    for position in snapshot.peers.indices where staging.count(ofPeer: position) > 0 {
      let abandonments = snapshot.peerObject(position).abandonments.load(ordering: .acquiring)
      if abandonments != staging.mark(ofPeer: position) || snapshot.route(ofPeer: position) < 0 {
        let reason: Counter =
          abandonments != staging.mark(ofPeer: position)
          ? .tunnelStagedAbandoned : .tunnelStagedPeerGone
        while let item = staging.takeOldest(ofPeer: position) {
          bank.add(reason)
          discard(item)
        }
      } else if snapshot.sending[position] != nil {
        ready[readyCount] = Int32(position)
        readyCount &+= 1
      }
    }
  }

  private func discard(_ item: StagedPackets.Item) {
    // Buffers still to hand back and packets still staged never exceed the pool together
    // (a discarded packet leaves the pool), so after moving the ones not yet taken to the
    // front there is always room.
    if discardedNext > 0 {
      let left = discardedCount &- discardedNext
      if left > 0 { discarded.update(from: discarded + discardedNext, count: left) }
      discardedCount = left
      discardedNext = 0
    }
    discarded[discardedCount] = item.id
    discardedCount &+= 1
  }

  /// Whether staged packets are to be sent or dropped (after an adopt): the pipeline's
  /// `releaseStaged` then runs before anything newer.
  var hasStagedWork: Bool { discardedNext < discardedCount || readyNext < readyCount }

  /// The TUN buffer of a dropped staged packet (to recycle), or -1.
  func takeDiscarded() -> Int {
    guard discardedNext < discardedCount else { return -1 }
    let id = Int(discarded[discardedNext])
    discardedNext &+= 1
    if discardedNext == discardedCount {
      discardedCount = 0
      discardedNext = 0
    }
    return id
  }

  /// The next staged packet that may be sealed now, oldest first per peer, with the route of
  /// its peer; nil when none is left.
  func takeReady() -> (item: StagedPackets.Item, routeIndex: Int)? {
    while readyNext < readyCount {
      let position = Int(ready[readyNext])
      if let session = snapshot.sending[position], now < session.takeUnretainedValue().rejectAfter,
        let item = staging.takeOldest(ofPeer: position)
      {
        return (item, snapshot.route(ofPeer: position))
      }
      readyNext &+= 1
    }
    return nil
  }

  /// Stages the packet in TUN buffer `id` (`length` bytes) that `seal` answered `mustStage`
  /// for. Returns the buffer of the packet that made room (the peer's or the pool's oldest,
  /// counted dropped), or -1.
  @inline(never)
  func stage(buffer id: Int, length: Int, routeIndex: Int) -> Int {
    let position = snapshot.peer(ofRoute: routeIndex)
    let mark =
      position >= 0 ? snapshot.peerObject(position).abandonments.load(ordering: .acquiring) : 0
    bank.add(.tunnelStaged)
    let item = StagedPackets.Item(
      id: Int32(truncatingIfNeeded: id), length: Int32(truncatingIfNeeded: length))
    guard let evicted = staging.stage(item, peer: position, mark: mark) else { return -1 }
    bank.add(.tunnelStagedDropped)
    return Int(evicted.id)
  }

  /// Seals the `length`-byte packet at `packet` for the peer of route `routeIndex`: the
  /// transport header goes into the 16 bytes before it, zero padding and the tag after it
  /// (`room` bytes from `packet` on are ours). Returns the message length (it starts 16 bytes
  /// before `packet`), 0 when the packet was dropped and counted (no room), or `mustStage`:
  /// no session that may send (the handshake thread is asked for one), or packets of the peer
  /// are staged already and this one goes behind them (unless `releasing` them).
  @inline(__always)
  func seal(_ packet: UnsafeMutableRawPointer, length: Int, room: Int, routeIndex: Int) -> Int {
    let position = snapshot.peer(ofRoute: routeIndex)
    guard position >= 0 else {
      bank.add(.dropNoRoute)
      return 0
    }
    guard let sessionReference = snapshot.sending[position],
      let sealer = sealers[position]
    else { return noSession(position) }
    let session = sessionReference.takeUnretainedValue()
    guard now < session.rejectAfter else {
      bank.add(.tunnelExpired)
      return noSession(position)
    }
    if !releasing && !staging.isEmpty && staging.count(ofPeer: position) > 0 {
      return Self.mustStage
    }
    let padding = TransportPadding.paddingLength(plaintextLength: length, mtu: mtu)
    let sealedLength = length &+ padding
    guard sealedLength &+ TransportLayout.tagSize <= room else {
      bank.add(.dropOffload)
      return 0
    }
    let counter = session.nextCounter.wrappingAdd(1, ordering: .relaxed).oldValue
    guard counter < Limits.rejectAfterMessages else { return noSession(position) }
    if padding > 0 {
      (packet + length).initializeMemory(as: UInt8.self, repeating: 0, count: padding)
    }
    let header = packet - TransportLayout.headerSize
    TransportMessage.writeHeader(
      into: UnsafeMutableRawBufferPointer(start: header, count: TransportLayout.headerSize),
      receiverIndex: session.keys.remoteIndex, counter: counter)
    let sealed = sealer._withUnsafeGuaranteedRef {
      $0.seal(packet, length: sealedLength, counter: counter)
    }
    guard sealed else {
      bank.add(.dropSendError)
      return 0
    }
    session.peer.sealed(at: now, bytes: length)
    return TransportLayout.headerSize &+ sealedLength &+ TransportLayout.tagSize
  }

  /// What `sealSegments` produced: `count` transport messages `stride` bytes apart, all
  /// `stride` long but the last; `bytes` from the first's start to the last's end. Count
  /// `mustStage`: the super-packet waits for a session, whole (`seal`'s answer).
  struct SealedSegments {
    var count: Int
    var stride: Int
    var bytes: Int
  }

  /// Cuts a TSO/USO super-packet into the packets the kernel would have sent (as
  /// `SuperPacket.split` does) and seals each into a transport message for the peer of route
  /// `routeIndex`, one after another from `area`. Count 0: dropped and counted (a refused
  /// super-packet, no room); `mustStage`: as for `seal`.
  @inline(__always)
  func sealSegments(
    _ virtio: VirtioNetHeader, packet: UnsafeRawPointer, length: Int,
    into area: UnsafeMutableRawPointer, capacity: Int, routeIndex: Int
  ) -> SealedSegments {
    let none = SealedSegments(count: 0, stride: 0, bytes: 0)
    let waits = SealedSegments(count: Self.mustStage, stride: 0, bytes: 0)
    let layout: SuperPacket.Layout
    switch SuperPacket.Layout.of(virtio, packet: packet, length: length) {
    case .success(let accepted): layout = accepted
    case .failure:
      bank.add(.dropOffload)
      return none
    }
    let position = snapshot.peer(ofRoute: routeIndex)
    guard position >= 0 else {
      bank.add(.dropNoRoute)
      return none
    }
    guard let sessionReference = snapshot.sending[position], let sealer = sealers[position]
    else {
      _ = noSession(position)
      return waits
    }
    let session = sessionReference.takeUnretainedValue()
    guard now < session.rejectAfter else {
      bank.add(.tunnelExpired)
      _ = noSession(position)
      return waits
    }
    if !releasing && !staging.isEmpty && staging.count(ofPeer: position) > 0 { return waits }
    let full = layout.headerLength &+ min(layout.gsoSize, layout.payload)
    let stride =
      TransportLayout.minimumSize &+ full
      &+ TransportPadding.paddingLength(plaintextLength: full, mtu: mtu)
    guard layout.count &* stride <= capacity else {
      bank.add(.dropOffload)
      return none
    }
    let first = session.nextCounter.wrappingAdd(UInt64(layout.count), ordering: .relaxed).oldValue
    guard first < Limits.rejectAfterMessages,
      UInt64(layout.count) < Limits.rejectAfterMessages - first
    else {
      _ = noSession(position)
      return waits
    }
    let fixed = SuperPacket.FixedSums(
      packet, isTCP: layout.isTCP, ipHeaderLength: layout.ipHeaderLength)
    var end = 0
    var plaintextBytes = 0
    for i in 0..<layout.count {
      let message = area + i &* stride
      let plaintext = message + TransportLayout.headerSize
      let written = SuperPacket.writeSegment(
        i, of: packet, layout, fixed, to: plaintext, gather: nil)
      let padding = TransportPadding.paddingLength(plaintextLength: written, mtu: mtu)
      if padding > 0 {
        (plaintext + written).initializeMemory(as: UInt8.self, repeating: 0, count: padding)
      }
      let counter = first &+ UInt64(i)
      TransportMessage.writeHeader(
        into: UnsafeMutableRawBufferPointer(start: message, count: TransportLayout.headerSize),
        receiverIndex: session.keys.remoteIndex, counter: counter)
      let ok = sealer._withUnsafeGuaranteedRef {
        $0.seal(plaintext, length: written &+ padding, counter: counter)
      }
      guard ok else {
        bank.add(.dropSendError, UInt64(layout.count))
        return none
      }
      end = i &* stride &+ TransportLayout.minimumSize &+ written &+ padding
      plaintextBytes &+= written
    }
    session.peer.sealed(at: now, bytes: plaintextBytes)
    return SealedSegments(count: layout.count, stride: stride, bytes: end)
  }

  /// Records that the peer at `position` needs a session; wakes the handshake thread once.
  /// Returns `mustStage`.
  @inline(never)
  private func noSession(_ position: Int, counting: Bool = true) -> Int {
    if counting { bank.add(.tunnelNoSession) }
    let peer = snapshot.peerObject(position)
    if !peer.sessionWanted.load(ordering: .relaxed),
      !peer.sessionWanted.exchange(true, ordering: .acquiringAndReleasing)
    {
      inbox.signal()
    }
    return Self.mustStage
  }

  /// A transport message for no session we hold. From a peer's endpoint it usually means we
  /// restarted (or dropped the session) and the peer still seals with the old one: asking for
  /// a handshake now (the timers allow one per REKEY_TIMEOUT) heals within a round trip,
  /// where the protocol alone would wait for the peer's "no answer" timer (15 s). The
  /// initiation is authenticated like any other, so a forged message gains nothing.
  @inline(never)
  private func unknownIndex(from sourceAddress: UInt32) {
    bank.add(.tunnelUnknownIndex)
    let position = snapshot.peer(atEndpoint: sourceAddress)
    guard position >= 0 else { return }
    // Only when that looks like a restart: no session that may send, or nothing opened from
    // the peer for REKEY_TIMEOUT. Otherwise a forged message (32 bytes, any index, the
    // peer's address) would buy a handshake every REKEY_TIMEOUT.
    let quiet = now &- snapshot.peerObject(position).lastReceived.load(ordering: .relaxed)
    if snapshot.sending[position] == nil || quiet > Self.restartSilence {
      _ = noSession(position, counting: false)
    }
  }

  /// REKEY_TIMEOUT in nanoseconds.
  static let restartSilence = UInt64(Limits.rekeyTimeout.components.seconds) * 1_000_000_000

  /// Handles the `length`-byte datagram at `message` from `source` (host order): a transport
  /// message is opened in place and checked, and its inner packet (at `message + 16`) has the
  /// returned length; 0 when there is nothing for the TUN — a handshake message (queued for
  /// the handshake thread), a keepalive, or a drop (counted).
  @inline(__always)
  func open(
    _ message: UnsafeMutableRawPointer, length: Int, sourceAddress: UInt32, sourcePort: UInt16
  ) -> Int {
    switch MessageType.classify(UnsafeRawBufferPointer(start: message, count: length)) {
    case .message(.transportData):
      return openTransport(message, length: length, sourceAddress: sourceAddress)
    case .message:
      let queued = inbox.push(
        message, length: length, sourceAddress: sourceAddress, sourcePort: sourcePort)
      bank.add(queued ? .tunnelHandshakesQueued : .tunnelHandshakesDropped)
      return 0
    case .drop:
      bank.add(.tunnelBadMessage)
      return 0
    }
  }

  @inline(__always)
  private func openTransport(
    _ message: UnsafeMutableRawPointer, length: Int, sourceAddress: UInt32
  ) -> Int {
    let receiverIndex = UInt32(
      littleEndian: message.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    let counter = UInt64(littleEndian: message.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    let entry = snapshot.receiveEntry(receiverIndex)
    guard entry >= 0 else {
      unknownIndex(from: sourceAddress)
      return 0
    }
    guard owned[entry] else {
      bank.add(.tunnelWrongWorker)
      return 0
    }
    let session = snapshot.receiveSessions[entry].takeUnretainedValue()
    guard now < session.rejectAfter else {
      bank.add(.tunnelExpired)
      return 0
    }
    let payload = message + TransportLayout.headerSize
    let sealedLength = length &- TransportLayout.headerSize
    let opened = openers[entry]._withUnsafeGuaranteedRef {
      $0.open(payload, length: sealedLength, counter: counter)
    }
    guard opened else {
      bank.add(.tunnelDecryptFailed)
      return 0
    }
    // Only an authenticated counter may move the window.
    guard session.replay.pointee.accept(counter) else {
      bank.add(.tunnelReplayed)
      return 0
    }
    if !session.received.load(ordering: .relaxed) {
      session.received.store(true, ordering: .releasing)
      inbox.signal()  // a responder's session is confirmed: it may send now
    }
    let plaintext = sealedLength &- TransportLayout.tagSize
    let position = snapshot.receivePeer(entry)
    guard plaintext > 0 else {
      session.peer.opened(at: now, bytes: 0)
      bank.add(.tunnelKeepalivesReceived)
      return 0
    }
    // The padded plaintext's packet: its own total length says where it ends (IPv4 only).
    guard plaintext >= IPv4Packet.minimumHeaderLength,
      payload.load(as: UInt8.self) >> 4 == 4
    else {
      bank.add(plaintext < IPv4Packet.minimumHeaderLength ? .dropShort : .dropNotIPv4)
      return 0
    }
    let total = Int(UnsafeRawPointer(payload).loadBigEndian16(at: 2))
    guard total >= IPv4Packet.minimumHeaderLength, total <= plaintext else {
      bank.add(.dropBadHeader)
      return 0
    }
    let source = UnsafeRawPointer(payload).loadBigEndian32(at: 12)
    guard snapshot.allows(source, fromPeer: position) else {
      bank.add(.tunnelWrongSource)
      return 0
    }
    session.peer.opened(at: now, bytes: total)
    return total
  }
}
