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

  init() throws {
    let identityA = StaticIdentity(privateKey: try X25519.newPrivateKey())
    let identityB = StaticIdentity(privateKey: try X25519.newPrivateKey())
    let handshakeA = try PeerHandshake(identity: identityA, remoteStatic: identityB.publicKey)
    let handshakeB = try PeerHandshake(identity: identityB, remoteStatic: identityA.publicKey)
    // Session ages are on the forwarders' clock.
    let now = MonotonicClock.now()
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
    codecA = TunnelCodec(exchange: exchangeA, inbox: inboxA, bank: bankA, mtu: Self.mtu)
    codecB = TunnelCodec(exchange: exchangeB, inbox: inboxB, bank: bankB, mtu: Self.mtu)
    a = PipelineLab(tunnel: codecA, bank: bankA)
    b = PipelineLab(tunnel: codecB, bank: bankB)
    exchangeA.publish(
      TunnelSnapshot([
        .init(
          peer: peerB, endpointAddress: PipelineLab.peer, endpointPort: 7890,
          allowedNetwork: 0x0a01_0200, allowedPrefixLength: 24, sending: sessionA,
          receiving: [sessionA])
      ]))
    publishB(confirmed: false)
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
    let routes = codecB.refresh(now: MonotonicClock.nanoseconds())
    b.receive(datagram, into: id, from: Self.addressA, routes: routes)
    var written: [UInt8]?
    for intent in b.take() {
      if case .write(let bytes, let length, _, let writeID) = intent {
        written = Array(UnsafeRawBufferPointer(start: bytes, count: length))
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
    #expect(pair.b.take() == [.recycleTun(0)])
    #expect(pair.b.counter(.tunnelNoSession) == 1)
    #expect(pair.peerA.takeSessionWanted())
    #expect(!pair.peerA.takeSessionWanted(), "taken once")
    // The initiator's first message confirms the session; the handshake thread then lets
    // B send.
    _ = pair.receiveOnB(try #require(pair.sendFromA(TunnelPair.packet())))
    #expect(pair.sessionB.hasReceived)
    pair.publishB(confirmed: true)
    let routes = pair.codecB.refresh(now: MonotonicClock.nanoseconds())
    pair.b.read(reply, into: 1, routes: routes)
    pair.b.tunToUDP.flush()
    #expect(pair.b.take().contains { if case .send = $0 { true } else { false } })
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
