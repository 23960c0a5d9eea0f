import Glibc
import Testing
import WireGuard

@testable import DataPlane

/// Packets for a peer whose session is not there yet wait in the forwarder (WireGuard's staged
/// queue) and cross once a snapshot brings the session: the first packets to a new peer are
/// not lost.
@Suite struct TunnelStagingTests {
  /// The datagrams of every send intent in `intents`, in order.
  static func datagrams(_ intents: [LoopIntent]) -> [[UInt8]] {
    var out: [[UInt8]] = []
    for intent in intents {
      guard case .send(let header, _, _) = intent else { continue }
      if let segmentSize = SendHeaderView(header).segmentSize {
        // A GSO send: the kernel cuts the gathered bytes every `segmentSize`.
        var bytes: [UInt8] = []
        for v in 0..<header.pointee.msg_iovlen {
          let vector = header.pointee.msg_iov[v]
          bytes += UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len)
        }
        var start = 0
        while start < bytes.count {
          out.append(Array(bytes[start..<min(start + segmentSize, bytes.count)]))
          start += segmentSize
        }
      } else {
        let vector = header.pointee.msg_iov[0]
        out.append(Array(UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len)))
      }
    }
    return out
  }

  /// The transport counter of a message.
  static func counter(_ message: [UInt8]) -> UInt64 {
    message[8..<16].reversed().reduce(0) { $0 << 8 | UInt64($1) }
  }

  /// A reads `packet` into TUN buffer `id` with its current table.
  static func read(_ pair: TunnelPair, _ packet: [UInt8], into id: Int) {
    pair.a.read(packet, into: id, routes: pair.codecA.refresh(now: MonotonicClock.nanoseconds()))
  }

  /// A adopts its newest table and releases what it staged, as the loop does before a batch;
  /// the intents that produced.
  static func adopt(_ pair: TunnelPair) -> [LoopIntent] {
    let routes = pair.codecA.refresh(now: MonotonicClock.nanoseconds())
    while pair.a.tunToUDP.releaseStaged(routes) {}
    pair.a.tunToUDP.flush()
    return pair.a.take()
  }

  @Test func packetsSentBeforeTheSessionArriveAfterTheHandshakeInOrder() throws {
    let pair = try TunnelPair(sendingA: false)
    let first = TunnelPair.packet(size: 100)
    let second = TunnelPair.packet(size: 60)
    Self.read(pair, first, into: 0)
    Self.read(pair, second, into: 1)
    #expect(pair.a.take() == [], "nothing sent, no buffer handed back: both wait")
    #expect(pair.a.counter(.tunnelStaged) == 2)
    #expect(pair.a.counter(.tunnelNoSession) == 2)
    #expect(pair.peerB.takeSessionWanted(), "a handshake is asked for")
    #expect(pair.inboxA.drain().isEmpty, "only a wake-up, no message")
    // The handshake completes: the handshake thread publishes B with its session.
    pair.publishA(sending: true)
    let messages = Self.datagrams(Self.adopt(pair))
    #expect(messages.map(Self.counter) == [0, 1], "sealed in the order they were read")
    #expect(pair.a.counter(.tunnelStagedSent) == 2)
    let written = messages.compactMap { pair.receiveOnB($0) }
    #expect(written.count == 2)
    #expect(Array(written[0][20...]) == Array(first[20...]))
    #expect(Array(written[1][20...]) == Array(second[20...]))
    #expect(pair.a.counter(.tunnelStagedDropped) == 0)
    // Nothing is left staged: the next packet is sealed at once.
    let third = try #require(pair.sendFromA(TunnelPair.packet()))
    #expect(Self.counter(third) == 2)
  }

  @Test func aNewerPacketOfAPeerWithStagedOnesGoesBehindThem() throws {
    let pair = try TunnelPair(sendingA: false)
    Self.read(pair, TunnelPair.packet(size: 100), into: 0)
    pair.publishA(sending: true)
    // Read with the new table before the staged packet went: it must not overtake it.
    Self.read(pair, TunnelPair.packet(size: 60), into: 1)
    #expect(pair.a.take() == [])
    let messages = Self.datagrams(Self.adopt(pair))
    #expect(messages.map(\.count) == [16 + 112 + 16, 16 + 64 + 16], "the 100-byte one first")
    #expect(messages.map(Self.counter) == [0, 1])
    #expect(pair.a.counter(.tunnelStaged) == 2)
    #expect(pair.a.counter(.tunnelNoSession) == 1, "the second one met a session")
  }

  @Test func whenStagingIsFullTheOldestPacketIsDropped() throws {
    let pair = try TunnelPair(sendingA: false, stagingA: 4)
    for id in 0..<4 { Self.read(pair, TunnelPair.packet(size: 100 + id), into: id) }
    #expect(pair.a.take() == [])
    Self.read(pair, TunnelPair.packet(size: 104), into: 4)
    #expect(pair.a.take() == [.recycleTun(0)], "the oldest one's buffer goes back")
    #expect(pair.a.counter(.tunnelStagedDropped) == 1)
    pair.publishA(sending: true)
    let written = Self.datagrams(Self.adopt(pair)).compactMap { pair.receiveOnB($0) }
    #expect(written.map(\.count) == [101, 102, 103, 104])
  }

  @Test func aHandshakeGivenUpDropsWhatWasStaged() throws {
    let pair = try TunnelPair(sendingA: false)
    Self.read(pair, TunnelPair.packet(), into: 0)
    Self.read(pair, TunnelPair.packet(), into: 1)
    pair.peerB.handshakeAbandoned()
    pair.publishA(sending: false)
    #expect(Self.adopt(pair) == [.recycleTun(0), .recycleTun(1)])
    #expect(pair.a.counter(.tunnelStagedAbandoned) == 2)
    // A packet after the give-up waits for the next handshake.
    Self.read(pair, TunnelPair.packet(size: 80), into: 2)
    pair.publishA(sending: false)
    #expect(Self.adopt(pair) == [], "a snapshot without the session leaves it waiting")
    pair.publishA(sending: true)
    let written = Self.datagrams(Self.adopt(pair)).compactMap { pair.receiveOnB($0) }
    #expect(written.map(\.count) == [80])
  }

  /// Discards that use up a release's whole budget, twice: the second time's buffers must
  /// come back too (the list of buffers to hand back is emptied once all were taken).
  @Test func discardsFillingTheReleaseBudgetAreHandedBackEveryTime() throws {
    let pair = try TunnelPair(sendingA: false, stagingA: 4)
    for round in 0..<3 {
      for id in 0..<4 { Self.read(pair, TunnelPair.packet(), into: id) }
      pair.peerB.handshakeAbandoned()
      pair.publishA(sending: false)
      let routes = pair.codecA.refresh(now: MonotonicClock.nanoseconds())
      #expect(!pair.a.tunToUDP.releaseStaged(routes, budget: 4), "round \(round): all in one")
      #expect(pair.a.take() == (0..<4).map { .recycleTun($0) }, "round \(round)")
    }
    #expect(pair.a.counter(.tunnelStagedAbandoned) == 12)
  }

  @Test func aPeerThatGoesTakesItsStagedPacketsWithIt() throws {
    let pair = try TunnelPair(sendingA: false)
    Self.read(pair, TunnelPair.packet(), into: 3)
    pair.exchangeA.publish(.empty)
    #expect(Self.adopt(pair) == [.recycleTun(3)])
    #expect(pair.a.counter(.tunnelStagedPeerGone) == 1)
  }

  @Test func stagedPacketsFollowTheirPeerToItsNewPosition() throws {
    let pair = try TunnelPair(sendingA: false)
    Self.read(pair, TunnelPair.packet(), into: 0)
    // Another peer (without a session) comes first in the next tables: B moves to position 1.
    let other = TunnelSnapshot.Peer(
      peer: TunnelPeer(name: "C"), endpointAddress: 0xc0a8_5a03, endpointPort: 7890,
      allowedNetwork: 0x0a01_0300, allowedPrefixLength: 24, sending: nil, receiving: [])
    pair.publishA(sending: false, others: [other])
    #expect(Self.adopt(pair) == [])
    pair.publishA(sending: true, others: [other])
    let intents = Self.adopt(pair)
    let written = Self.datagrams(intents).compactMap { pair.receiveOnB($0) }
    #expect(written.map(\.count) == [100])
    let header = try #require(
      intents.compactMap { if case .send(let h, _, _) = $0 { h } else { nil } }.first)
    #expect(SendHeaderView(header).address == PipelineLab.peer, "to B's endpoint")
  }

  @Test func aTSOSuperPacketWaitsWholeAndIsCutWhenSealed() throws {
    let pair = try TunnelPair(virtioHeader: true, sendingA: false)
    var tcp = TCPSegmentFields(payload: (0..<3000).map { UInt8(truncatingIfNeeded: $0) })
    tcp.flags = 0x18
    let packet = tcp.bytes
    let virtio = VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv4, headerLength: 40,
      gsoSize: 1000, checksumStart: 20, checksumOffset: 16)
    pair.a.read(
      packet, into: 2, virtio: virtio,
      routes: pair.codecA.refresh(now: MonotonicClock.nanoseconds()))
    #expect(pair.a.take() == [])
    #expect(pair.a.counter(.tunnelStaged) == 1)
    pair.publishA(sending: true)
    let messages = Self.datagrams(Self.adopt(pair))
    #expect(messages.map(Self.counter) == [0, 1, 2], "one message per segment")
    #expect(pair.a.counter(.tunnelStagedSent) == 1)
    var payloads: [UInt8] = []
    for (i, message) in messages.enumerated() {
      let written = try #require(pair.receiveOnB(message, into: i))
      payloads += written[40...]
    }
    #expect(payloads == Array(packet[40...]))
  }
}
