import Testing

@testable import WireGuard

/// `setPeers`, local indices, roaming and keepalives of `HandshakeDevice`.
@Suite struct HandshakeDeviceConfigTests {
  static let t0 = Duration.seconds(1000)

  @Test func removingAPeerErasesItsSessionsAndFreesItsIndices() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    pair.handshake(now: Self.t0)
    #expect(b.device.localIndexCount == 1)
    let removed = b.device.setPeers([], now: Self.t0 + .seconds(1))
    let sessions = try #require(sessionIndices(removed))
    #expect(sessions.0 == nil && sessions.1.isEmpty)
    #expect(b.device.localIndexCount == 0)
    #expect(b.device.peerStatus(a.publicKey) == nil)
    #expect(b.device.nextDeadline == nil)
    // Its handshakes are now from an unknown peer.
    let later = Self.t0 + .seconds(10)
    let initiation = try #require(
      sent(a.device.sendRequested(peer: b.publicKey, now: later)).first)
    #expect(
      b.device.receive(initiation, from: DevicePair.endpointA, now: later, underLoad: false)
        .isEmpty)
    #expect(b.device.counters[dropped: .unknownPeer] == 1)
  }

  @Test func peersAreAddedAndRemovedOneAtATime() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    pair.handshake(now: Self.t0)
    let c = TestDevice(
      privateKey: "a8abababababababababababababababababababababababababababababab6b",
      endpoint: Endpoint(address: 0x0a00_0003, port: 51820), indexBase: 0x3000)
    #expect(a.device.addOrUpdatePeer(c.config(), now: Self.t0).isEmpty)
    #expect(Set(a.device.peerKeys) == [b.publicKey, c.publicKey])
    // Removing one leaves the other's session alone.
    let removed = a.device.removePeer(b.publicKey)
    let sessions = try #require(sessionIndices(removed))
    #expect(sessions.0 == nil && sessions.1.isEmpty)
    #expect(a.device.peerKeys == [c.publicKey])
    #expect(a.device.removePeer(b.publicKey).isEmpty)
    guard
      case .peerRefused(_, .ownPublicKey) = a.device.addOrUpdatePeer(a.config(), now: Self.t0).first
    else {
      Issue.record("own key accepted")
      return
    }
  }

  @Test func refusedPeersAreNamedAndTheOthersApplied() throws {
    let pair = DevicePair()
    let lowOrder = try PublicKey(bytes: [UInt8](repeating: 0, count: 32))
    let outputs = pair.a.device.setPeers(
      [
        pair.b.config(), pair.a.config(), pair.b.config(),
        WireGuardPeerConfig(publicKey: lowOrder, endpoint: DevicePair.endpointB),
      ], now: Self.t0)
    var refused: [PeerConfigError] = []
    for case .peerRefused(_, let error) in outputs { refused.append(error) }
    #expect(refused == [.ownPublicKey, .duplicatePublicKey, .invalidPublicKey])
    #expect(pair.a.device.peerKeys == [pair.b.publicKey])
  }

  @Test func aNewConfiguredEndpointIsUsedForTheNextInitiation() throws {
    let pair = DevicePair()
    let moved = Endpoint(address: 0xc000_0207, port: 4000)
    var config = pair.b.config()
    config.endpoint = moved
    let outputs = pair.a.device.setPeers([config], now: Self.t0)
    #expect(
      outputs.contains {
        if case .endpointChanged(let peer, let to) = $0 {
          return peer == pair.b.publicKey && to == moved
        }
        return false
      })
    let request = pair.a.device.sendRequested(peer: pair.b.publicKey, now: Self.t0)
    guard case .send(_, let to) = try #require(request.first) else {
      Issue.record("no initiation")
      return
    }
    #expect(to == moved)
    // The same configuration again changes nothing.
    #expect(pair.a.device.setPeers([config], now: Self.t0).isEmpty)
  }

  @Test func anAuthenticatedInitiationFromANewAddressMovesThePeer() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    let roamed = Endpoint(address: 0xc633_640a, port: 61000)
    let initiation = try #require(
      sent(a.device.sendRequested(peer: b.publicKey, now: Self.t0)).first)
    let outputs = b.device.receive(initiation, from: roamed, now: Self.t0, underLoad: false)
    #expect(
      outputs.contains {
        if case .endpointChanged(let peer, let to) = $0 {
          return peer == a.publicKey && to == roamed
        }
        return false
      })
    #expect(
      outputs.contains {
        if case .send(let bytes, let to) = $0 { return bytes.count == 92 && to == roamed }
        return false
      })
    #expect(b.device.peerStatus(a.publicKey)?.endpoint == roamed)
    // A message that fails authentication moves nothing.
    var forged = initiation
    forged[50] ^= 1
    _ = b.device.receive(
      forged, from: DevicePair.endpointA, now: Self.t0 + .seconds(1), underLoad: false)
    #expect(b.device.peerStatus(a.publicKey)?.endpoint == roamed)
  }

  @Test func indicesComeFromTheCallersSourceAndStayUnique() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    // A's transport steering accepts only multiples of 4, and its source repeats itself.
    a.indices.value = [4, 4, 8, 4, 8]
    pair.handshake(now: Self.t0)
    #expect(a.sending[b.publicKey]?.localIndex == 4)
    let rekeyAt = Self.t0 + .seconds(121)
    pair.deliver(
      a.device.transportSent(peer: b.publicKey, keepalive: false, counter: 1, now: rekeyAt),
      from: a, now: rekeyAt)
    #expect(a.receiving[b.publicKey]?.map(\.localIndex) == [8, 4])
    // Both values in use (current and previous): no third index, nothing sent, counted.
    let third = Self.t0 + .seconds(250)
    let outputs = a.device.transportSent(
      peer: b.publicKey, keepalive: false, counter: 2, now: third)
    #expect(sent(outputs).isEmpty)
    #expect(a.device.counters.sendFailures == 1)
    #expect(a.device.localIndexCount == 2)
  }

  @Test func indexTableDrawsAgainOnCollisionAndGivesUpWhenFull() {
    var table = IndexTable()
    let peer = try! PublicKey(bytes: [UInt8](repeating: 9, count: 32))
    var candidates: [UInt32] = [7, 7, 7, 11]
    let source: (PublicKey) -> UInt32 = { _ in
      let next = candidates.removeFirst()
      candidates.append(next)
      return next
    }
    #expect(table.allocate(for: peer, candidate: source) == 7)
    #expect(table.allocate(for: peer, candidate: source) == 11)
    #expect(table.allocate(for: peer, candidate: source) == nil)
    table.free(7)
    #expect(table.allocate(for: peer, candidate: source) == 7)
    #expect(table.peer(for: 11) == peer && table.peer(for: 12) == nil)
  }

  @Test func persistentKeepaliveStartsAHandshakeThenKeepsTheSessionAlive() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    var config = b.config()
    config.persistentKeepalive = .seconds(25)
    // Turned on: a keepalive at once; there is no session yet, so a handshake.
    let turnedOn = a.device.setPeers([config], now: Self.t0)
    #expect(sent(turnedOn).count == 1)
    pair.deliver(turnedOn, from: a, now: Self.t0)
    #expect(a.sending[b.publicKey] != nil)
    #expect(a.device.nextDeadline == Self.t0 + .seconds(25))
    let due = a.device.tick(now: Self.t0 + .seconds(25))
    #expect(
      due.contains {
        if case .sendKeepalive(let peer) = $0 { return peer == b.publicKey }
        return false
      })
    // Turned off: no more keepalives.
    config.persistentKeepalive = .zero
    _ = a.device.setPeers([config], now: Self.t0 + .seconds(26))
    _ = a.device.transportSent(
      peer: b.publicKey, keepalive: true, counter: 1, now: Self.t0 + .seconds(26))
    #expect(a.device.nextDeadline == Self.t0 + Limits.rejectAfterTime)
  }

  @Test func simultaneousInitiationsEndInOneSessionEachWay() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    let fromA = try #require(sent(a.device.sendRequested(peer: b.publicKey, now: Self.t0)).first)
    let fromB = try #require(sent(b.device.sendRequested(peer: a.publicKey, now: Self.t0)).first)
    // The initiations cross: each side answers the other's, which replaces its own…
    let answerB = sent(b.device.receive(fromA, from: a.endpoint, now: Self.t0, underLoad: false))
    let answerA = sent(a.device.receive(fromB, from: b.endpoint, now: Self.t0, underLoad: false))
    #expect(answerA.count == 1 && answerB.count == 1)
    // …so neither response finds its initiation, and no side may send yet.
    _ = a.note(a.device.receive(answerB[0], from: b.endpoint, now: Self.t0, underLoad: false))
    _ = b.note(b.device.receive(answerA[0], from: a.endpoint, now: Self.t0, underLoad: false))
    #expect(a.device.counters[dropped: .unknownIndex] == 1)
    #expect(b.device.counters[dropped: .unknownIndex] == 1)
    #expect(a.sending[b.publicKey] == nil && b.sending[a.publicKey] == nil)
    // The retransmission of one of them completes a handshake.
    let retryAt = try #require(a.device.nextDeadline)
    pair.deliver(a.device.tick(now: retryAt), from: a, now: retryAt)
    let aKeys = try #require(a.sending[b.publicKey])
    let bKeys = try #require(b.sending[a.publicKey])
    #expect(keysAgree(aKeys, bKeys))
  }
}
