import Glibc
import Testing
import WireGuard

@testable import DataPlane

/// Two pipeline labs with the WireGuard step between them, keyed by a real handshake: host A
/// (10.1.1.0/24, the initiator) and host B (10.1.2.0/24, the responder at
/// `PipelineLab.peer`). Datagrams A sends are handed to B's receive side by hand.
final class TunnelPair {
  static let addressA: UInt32 = 0xc0a8_5a01
  static let mtu = 1420

  let inboxA: HandshakeInbox
  let inboxB: HandshakeInbox
  let exchangeA = SnapshotExchange<TunnelSnapshot>(.empty)
  let exchangeB = SnapshotExchange<TunnelSnapshot>(.empty)
  let codecA: TunnelCodec
  let codecB: TunnelCodec
  let a: PipelineLab
  let b: PipelineLab
  /// B as A sees it, and A as B sees it.
  let peerB = TunnelPeer(name: "B")
  let peerA = TunnelPeer(name: "A")
  let sessionA: TunnelSession
  let sessionB: TunnelSession

  /// `age`: how long ago the handshake completed (REJECT_AFTER_TIME counts from then).
  /// `workersB`/`workerB`: B's place in a socket group of that size. `sendingA` false: A's
  /// table has B without a session (the handshake not done yet; `publishA`).
  init(
    virtioHeader: Bool = false, age: Duration = .zero, workersB: Int = 1, workerB: Int = 0,
    sendingA: Bool = true, stagingA: Int = 4
  ) throws {
    let identityA = StaticIdentity(privateKey: try X25519.newPrivateKey())
    let identityB = StaticIdentity(privateKey: try X25519.newPrivateKey())
    let handshakeA = try PeerHandshake(identity: identityA, remoteStatic: identityB.publicKey)
    let handshakeB = try PeerHandshake(identity: identityB, remoteStatic: identityA.publicKey)
    // Session ages are on the forwarders' clock.
    let now = MonotonicClock.now() - age
    var initiation = [UInt8](repeating: 0, count: InitiationLayout.size)
    try initiation.withUnsafeMutableBytes {
      try handshakeA.createInitiation(into: $0, localIndex: 0x0a0a_0a0a, now: now)
    }
    let received = try initiation.withUnsafeBytes { try identityB.decryptInitiation($0) }
    try handshakeB.consumeInitiation(received, now: now)
    var response = [UInt8](repeating: 0, count: ResponseLayout.size)
    let keysB = try response.withUnsafeMutableBytes {
      try handshakeB.createResponse(into: $0, localIndex: 0x0b0b_0b0b, now: now)
    }
    let keysA = try response.withUnsafeBytes { try handshakeA.consumeResponse($0, now: now) }
    sessionA = TunnelSession(keys: keysA, peer: peerB)
    sessionB = TunnelSession(keys: keysB, peer: peerA)

    inboxA = try HandshakeInbox()
    inboxB = try HandshakeInbox()
    let bankA = CounterBank()
    let bankB = CounterBank()
    codecA = TunnelCodec(
      exchange: exchangeA, inbox: inboxA, bank: bankA, mtu: Self.mtu, stagingCapacity: stagingA)
    codecB = TunnelCodec(
      exchange: exchangeB, inbox: inboxB, bank: bankB, mtu: Self.mtu, worker: workerB,
      workers: workersB)
    a = PipelineLab(virtioHeader: virtioHeader, tunnel: codecA, bank: bankA)
    b = PipelineLab(tunnel: codecB, bank: bankB)
    publishA(sending: sendingA)
    publishB(confirmed: false)
  }

  /// A's table: B, with or without its session; `others` more peers without one.
  func publishA(sending: Bool, others: [TunnelSnapshot.Peer] = []) {
    exchangeA.publish(
      TunnelSnapshot(
        others + [
          .init(
            peer: peerB, endpointAddress: PipelineLab.peer, endpointPort: 7890,
            allowedNetwork: 0x0a01_0200, allowedPrefixLength: 24,
            sending: sending ? sessionA : nil, receiving: [sessionA])
        ]))
  }

  /// B's table: until the initiator's first message arrives, B may only receive.
  func publishB(confirmed: Bool) {
    exchangeB.publish(
      TunnelSnapshot([
        .init(
          peer: peerA, endpointAddress: Self.addressA, endpointPort: 7890,
          allowedNetwork: 0x0a01_0100, allowedPrefixLength: 24,
          sending: confirmed ? sessionB : nil, receiving: [sessionB])
      ]))
  }

  /// A reads `packet` from its TUN; the datagram it sends (nil: none).
  func sendFromA(_ packet: [UInt8]) -> [UInt8]? {
    let routes = codecA.refresh(now: MonotonicClock.nanoseconds())
    a.read(packet, into: 0, routes: routes)
    a.tunToUDP.flush()
    for intent in a.take() {
      if case .send(let header, _, _) = intent {
        let vector = header.pointee.msg_iov[0]
        return Array(UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len))
      }
    }
    return nil
  }

  /// B receives `datagram` from A; the packet it writes into its TUN (nil: none).
  func receiveOnB(_ datagram: [UInt8], into id: Int = 0) -> [UInt8]? {
    receiveTrainOnB(datagram, into: id).last
  }

  /// B receives `train` (with `segmentSize`, a UDP GRO train); the packets it writes.
  func receiveTrainOnB(_ train: [UInt8], into id: Int = 0, segmentSize: Int? = nil) -> [[UInt8]] {
    let routes = codecB.refresh(now: MonotonicClock.nanoseconds())
    b.receive(train, into: id, from: Self.addressA, segmentSize: segmentSize, routes: routes)
    var written: [[UInt8]] = []
    for intent in b.take() {
      if case .write(let bytes, let length, _, let writeID) = intent {
        written.append(Array(UnsafeRawBufferPointer(start: bytes, count: length)))
        b.udpToTun.writeCompleted(writeID, Int32(length), coalesced: false)
      }
    }
    _ = b.take()
    return written
  }

  /// A packet from 10.1.1.2 to 10.1.2.5 of `size` bytes.
  static func packet(size: Int = 100, source: UInt32 = 0x0a01_0102) -> [UInt8] {
    IPv4Fields(
      ttl: 64, source: source, destination: 0x0a01_0205,
      payload: (0..<(size - 20)).map { UInt8(truncatingIfNeeded: $0) }
    ).bytes
  }
}

@Suite struct TunnelPipelineTests {
  @Test func packetCrossesSealedAndArrivesIntact() throws {
    let pair = try TunnelPair()
    let packet = TunnelPair.packet()
    let datagram = try #require(pair.sendFromA(packet))
    // Type 4, B's index, counter 0; 100 bytes padded to 112, tag 16.
    #expect(datagram.count == 16 + 112 + 16)
    #expect(Array(datagram[0..<4]) == [4, 0, 0, 0])
    #expect(Array(datagram[4..<8]) == [0x0b, 0x0b, 0x0b, 0x0b])
    #expect(Array(datagram[8..<16]) == [UInt8](repeating: 0, count: 8))
    // The payload on the wire is not the packet.
    #expect(Array(datagram[36..<116]) != Array(packet[20..<100]))
    let written = try #require(pair.receiveOnB(datagram))
    #expect(written.count == 100)
    #expect(Array(written[20...]) == Array(packet[20...]))
    #expect(written[8] == 62, "TTL decremented by each host")
    #expect(pair.sessionB.hasReceived)
    #expect(pair.peerA.activity.bytesReceived == 100)
    #expect(pair.peerB.activity.bytesSent == 100)
    #expect(pair.a.counter(.udpPacketsSent) == 0, "the send has not completed")
  }

  @Test func countersAdvanceAndEachMessageOpensOnce() throws {
    let pair = try TunnelPair()
    let first = try #require(pair.sendFromA(TunnelPair.packet()))
    pair.a.tunToUDP.sendCompleted(0, Int32(first.count))
    _ = pair.a.take()
    let second = try #require(pair.sendFromA(TunnelPair.packet(size: 60)))
    #expect(second[8] == 1, "the second message carries counter 1")
    #expect(second.count == 16 + 64 + 16)
    #expect(pair.receiveOnB(second) != nil)
    #expect(pair.receiveOnB(first) != nil, "an older counter inside the window opens")
    #expect(pair.receiveOnB(first) == nil, "a replay does not")
    #expect(pair.b.counter(.tunnelReplayed) == 1)
  }

  @Test func flippedBitIsDroppedAndCounted() throws {
    let pair = try TunnelPair()
    var datagram = try #require(pair.sendFromA(TunnelPair.packet()))
    datagram[40] ^= 0x01
    #expect(pair.receiveOnB(datagram) == nil)
    #expect(pair.b.counter(.tunnelDecryptFailed) == 1)
    datagram[40] ^= 0x01
    #expect(pair.receiveOnB(datagram) != nil, "the failed copy did not move the window")
  }

  @Test func unknownIndexBadMessagesAndWrongSourceAreDropped() throws {
    let pair = try TunnelPair()
    var datagram = try #require(pair.sendFromA(TunnelPair.packet()))
    datagram[4] ^= 0xff
    #expect(pair.receiveOnB(datagram) == nil)
    #expect(pair.b.counter(.tunnelUnknownIndex) == 1)
    #expect(pair.receiveOnB([9, 0, 0, 0] + [UInt8](repeating: 0, count: 40)) == nil)
    #expect(pair.receiveOnB([4, 0, 0, 0, 1]) == nil)
    #expect(pair.b.counter(.tunnelBadMessage) == 2)
    // A (allowed 10.1.1.0/24) sends a packet claiming to come from 10.9.9.9.
    let spoofed = try #require(pair.sendFromA(TunnelPair.packet(source: 0x0a09_0909)))
    #expect(pair.receiveOnB(spoofed) == nil)
    #expect(pair.b.counter(.tunnelWrongSource) == 1)
  }

  @Test func responderWaitsForConfirmationAndAsksForSessions() throws {
    let pair = try TunnelPair()
    let reply = IPv4Fields(
      ttl: 64, source: 0x0a01_0205, destination: 0x0a01_0102, payload: [1, 2, 3]
    ).bytes
    let routesB = pair.codecB.refresh(now: MonotonicClock.nanoseconds())
    // B's routes lead to A; B has no session that may send yet.
    pair.b.read(reply, into: 0, routes: routesB)
    #expect(pair.b.take() == [], "staged: the buffer is kept")
    #expect(pair.b.counter(.tunnelNoSession) == 1)
    #expect(pair.b.counter(.tunnelStaged) == 1)
    #expect(pair.peerA.takeSessionWanted())
    #expect(!pair.peerA.takeSessionWanted(), "taken once")
    // The initiator's first message confirms the session; the handshake thread then lets
    // B send.
    _ = pair.receiveOnB(try #require(pair.sendFromA(TunnelPair.packet())))
    #expect(pair.sessionB.hasReceived)
    pair.publishB(confirmed: true)
    let routes = pair.codecB.refresh(now: MonotonicClock.nanoseconds())
    #expect(!pair.b.tunToUDP.releaseStaged(routes))
    pair.b.read(reply, into: 1, routes: routes)
    pair.b.tunToUDP.flush()
    let sends = pair.b.take().compactMap { intent -> Int? in
      if case .send(let header, _, let head) = intent {
        return head + 10 * header.pointee.msg_iovlen
      }
      return nil
    }
    #expect(sends == [0 + 10 * 2], "the staged reply (buffer 0) heads one run with the new one")
    #expect(pair.b.counter(.tunnelStagedSent) == 1)
  }

  @Test func handshakeMessagesGoToTheInboxAndKeepalivesAreCounted() throws {
    let pair = try TunnelPair()
    var initiation = [UInt8](repeating: 0x5a, count: InitiationLayout.size)
    initiation[0...3] = [1, 0, 0, 0]
    #expect(pair.receiveOnB(initiation) == nil)
    #expect(pair.b.counter(.tunnelHandshakesQueued) == 1)
    let messages = pair.inboxB.drain()
    #expect(messages.count == 1)
    #expect(messages.first?.bytes == initiation)
    #expect(messages.first?.sourceAddress == TunnelPair.addressA)
    // A keepalive: an empty plaintext sealed with A's keys.
    let sealer = pair.sessionA.keys.makeSealer()
    var keepalive = [UInt8](repeating: 0, count: 32)
    keepalive[0] = 4
    keepalive[4...7] = [0x0b, 0x0b, 0x0b, 0x0b]
    keepalive[8] = 7
    let sealed = keepalive.withUnsafeMutableBytes {
      sealer.seal($0.baseAddress! + 16, length: 0, counter: 7)
    }
    #expect(sealed)
    #expect(pair.receiveOnB(keepalive) == nil)
    #expect(pair.b.counter(.tunnelKeepalivesReceived) == 1)
    #expect(pair.peerA.activity.lastReceived > 0)
    #expect(pair.peerA.activity.lastDataReceived == 0)
  }

  @Test func fullQueueDropsHandshakesAndCountsThem() throws {
    let pair = try TunnelPair()
    var response = [UInt8](repeating: 0, count: ResponseLayout.size)
    response[0] = 2
    for id in 0..<(HandshakeInbox.capacity + 3) {
      _ = pair.receiveOnB(response, into: id % PipelineLab.count)
    }
    #expect(pair.b.counter(.tunnelHandshakesQueued) == UInt64(HandshakeInbox.capacity))
    #expect(pair.b.counter(.tunnelHandshakesDropped) == 3)
    #expect(pair.inboxB.drain().count == HandshakeInbox.capacity)
  }

  /// Payload and gso_size: even segments; a short last one (its own padding); 65 segments,
  /// two GSO sends.
  @Test(arguments: [(3000, 1000), (2500, 1000), (6500, 100)])
  func aTSOSuperPacketIsSealedIntoOneMessagePerSegment(payload: Int, gsoSize: Int) throws {
    let pair = try TunnelPair(virtioHeader: true)
    var tcp = TCPSegmentFields(payload: (0..<payload).map { UInt8(truncatingIfNeeded: $0) })
    tcp.flags = 0x18
    let packet = tcp.bytes
    let virtio = VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv4, headerLength: 40,
      gsoSize: UInt16(gsoSize), checksumStart: 20, checksumOffset: 16)
    let routes = pair.codecA.refresh(now: MonotonicClock.nanoseconds())
    pair.a.read(packet, into: 4, virtio: virtio, routes: routes)
    let sends = pair.a.take().compactMap { intent -> (UnsafeMutablePointer<msghdr>, Int)? in
      if case .send(let header, .splitSend, let slot) = intent { return (header, slot) }
      return nil
    }
    let segments = (payload + gsoSize - 1) / gsoSize
    #expect(sends.count == (segments + 63) / 64, "≤ 64 messages per GSO send")
    // Each segment: 40 header bytes and its payload, padded to 16, between header and tag.
    func sealedLength(_ plaintext: Int) -> Int { 32 + (plaintext + 15) / 16 * 16 }
    let stride = sealedLength(40 + gsoSize)
    var messages: [[UInt8]] = []
    for (header, _) in sends {
      // A send of one message is a plain datagram (no UDP_SEGMENT).
      #expect(SendHeaderView(header).segmentSize == (header.pointee.msg_iovlen > 1 ? stride : nil))
      for v in 0..<header.pointee.msg_iovlen {
        let vector = header.pointee.msg_iov[v]
        messages.append(
          Array(UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len)))
      }
    }
    #expect(messages.count == segments)
    let last = payload - (segments - 1) * gsoSize
    #expect(messages.dropLast().allSatisfy { $0.count == stride })
    #expect(messages.last?.count == sealedLength(40 + last))
    var payloads: [UInt8] = []
    for (i, message) in messages.enumerated() {
      #expect(message[8] == UInt8(i), "counters in order")
      let written = try #require(pair.receiveOnB(message, into: i % PipelineLab.count))
      #expect(written.count == 40 + (i == segments - 1 ? last : gsoSize))
      #expect(
        tcpChecksum(written) == UInt16(written[36]) << 8 | UInt16(written[37]),
        "segment \(i) carries its TCP checksum")
      payloads += written[40...]
    }
    #expect(payloads == Array(packet[40...]))
    for (header, slot) in sends {
      let bytes = (0..<header.pointee.msg_iovlen).reduce(0) {
        $0 + header.pointee.msg_iov[$1].iov_len
      }
      pair.a.tunToUDP.splitSendCompleted(slot, Int32(bytes))
    }
    #expect(pair.a.take() == [.recycleTun(4)])
    #expect(pair.a.counter(.udpPacketsSent) == UInt64(segments))
    #expect(pair.peerB.activity.bytesSent == UInt64(segments * 40 + payload))
  }

  @Test func withAVirtioHeaderTheHeaderGoesIntoTheHeadroom() throws {
    let pair = try TunnelPair(virtioHeader: true)
    let packet = TunnelPair.packet(size: 200)
    let datagram = try #require(pair.sendFromA(packet))
    #expect(datagram.count == 16 + 208 + 16)
    #expect(Array(datagram[0..<4]) == [4, 0, 0, 0])
    let written = try #require(pair.receiveOnB(datagram))
    #expect(Array(written[20...]) == Array(packet[20...]))
  }

  @Test func aGROTrainOfMessagesIsOpenedMessageByMessage() throws {
    let pair = try TunnelPair()
    var train: [UInt8] = []
    for _ in 0..<3 {
      let datagram = try #require(pair.sendFromA(TunnelPair.packet()))
      pair.a.tunToUDP.sendCompleted(0, Int32(datagram.count))
      _ = pair.a.take()
      train += datagram
    }
    let written = pair.receiveTrainOnB(train, segmentSize: 144)
    #expect(written.count == 3)
    #expect(written.allSatisfy { Array($0[20...]) == Array(TunnelPair.packet()[20...]) })
  }

  @Test func aSessionOfAnotherWorkerIsNotOpenedHere() throws {
    // B's local index 0x0b0b0b0b steers to one worker of two; B is the other one.
    let owner = ReusePortSteering.worker(forReceiverIndex: 0x0b0b_0b0b, groupSize: 2)
    let pair = try TunnelPair(workersB: 2, workerB: 1 - owner)
    let datagram = try #require(pair.sendFromA(TunnelPair.packet()))
    #expect(pair.receiveOnB(datagram) == nil)
    #expect(pair.b.counter(.tunnelWrongWorker) == 1)
    #expect(!pair.sessionB.hasReceived, "not opened, the window untouched")
    let ownerPair = try TunnelPair(workersB: 2, workerB: owner)
    #expect(ownerPair.receiveOnB(try #require(ownerPair.sendFromA(TunnelPair.packet()))) != nil)
  }

  @Test func anExpiredSessionNeitherSealsNorOpens() throws {
    let pair = try TunnelPair(age: Limits.rejectAfterTime + .seconds(1))
    #expect(pair.sendFromA(TunnelPair.packet()) == nil)
    #expect(pair.a.counter(.tunnelExpired) == 1)
    #expect(pair.peerB.takeSessionWanted(), "a new handshake is asked for")
    let fresh = try TunnelPair()
    let datagram = try #require(fresh.sendFromA(TunnelPair.packet()))
    // The same bytes to a B whose session is expired: dropped unopened.
    let old = try TunnelPair(age: Limits.rejectAfterTime + .seconds(1))
    #expect(old.receiveOnB(datagram) == nil)
  }

  @Test func anUnknownIndexAsksForAHandshakeOnlyWhenTheSessionLooksGone() throws {
    let pair = try TunnelPair()
    pair.publishB(confirmed: true)
    var datagram = try #require(pair.sendFromA(TunnelPair.packet()))
    #expect(pair.receiveOnB(datagram) != nil)
    // B holds a session that may send and just heard from A: a message for an unknown index
    // (forged, or a stray) starts nothing.
    datagram[4] ^= 0xff
    #expect(pair.receiveOnB(datagram) == nil)
    #expect(!pair.peerA.takeSessionWanted())
    // Without a session that may send (B restarted, A still seals with the old one): it does.
    pair.publishB(confirmed: false)
    #expect(pair.receiveOnB(datagram) == nil)
    #expect(pair.peerA.takeSessionWanted())
    #expect(pair.b.counter(.tunnelUnknownIndex) == 2)
  }

  @Test func receiverIndexSteeringSpreadsSessionsOverWorkers() {
    var perWorker = [Int](repeating: 0, count: 3)
    for index in UInt32(0)..<3000 {
      let worker = ReusePortSteering.worker(
        forReceiverIndex: index &* 0x9e37_79b9, groupSize: 3)
      perWorker[worker] += 1
    }
    #expect(perWorker.allSatisfy { $0 > 800 }, "\(perWorker)")
    let program = ReusePortSteering.receiverIndexProgram(groupSize: 4)
    #expect(program.first == .init(code: ReusePortSteering.loadWordAbsolute, k: 4))
    #expect(program[6].k == 4)
  }
}
