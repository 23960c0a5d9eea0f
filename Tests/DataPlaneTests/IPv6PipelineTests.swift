import Glibc
import Testing

@testable import DataPlane

/// IPv6 inner packets through both pipelines on a dual-stack lab (lease subnet
/// fd10:0:0:2::/64 via the peer 192.168.90.2:7890), and what an IPv4-only lab does with them.
@Suite struct IPv6PipelineTests {
  static let routed = IPv6Fields(payload: [UInt8](repeating: 7, count: 60)).bytes
  /// From the peer's subnet to ours: what the peer sends us.
  static let fromPeer = IPv6Fields(
    source: ipv6Bytes(0xfd10_0000_0000_0002, 5), destination: ipv6Bytes(0xfd10_0000_0000_000f, 2),
    payload: [UInt8](repeating: 9, count: 60)
  ).bytes

  @Test func aRoutedPacketGoesToThePeerWithItsHopLimitDecremented() throws {
    let lab = PipelineLab(dualStack: true)
    lab.read(Self.routed, into: 0, routes: PipelineLab.dualStackRoutes)
    lab.read(Self.routed, into: 1, routes: PipelineLab.dualStackRoutes)
    lab.read(PipelineLab.packet(size: 100), into: 2, routes: PipelineLab.dualStackRoutes)
    lab.tunToUDP.flush()
    let intents = lab.take()
    guard case .send(let header, .udpSend, id: 0) = try #require(intents.first) else {
      Issue.record("expected one run send, got \(intents)")
      return
    }
    #expect(intents.count == 1, "both families to one peer, same size: one GSO run")
    #expect(SendHeaderView(header) == SendHeaderView(lengths: [100, 100, 100], segmentSize: 100))
    #expect(lab.tun.buffer(0).load(fromByteOffset: 7, as: UInt8.self) == 63)
    #expect(lab.counter(.ipv6PacketsSent) == 2)
  }

  @Test func noLeaseSubnetIsAnICMPv6ReplyWrittenBackFromTheScratchSpace() {
    let lab = PipelineLab(dualStack: true)
    let offender = IPv6Fields(destination: ipv6Bytes(0xfd10_0000_0000_0063, 1)).bytes
    lab.read(offender, into: 3, routes: PipelineLab.dualStackRoutes)
    let intents = lab.take()
    guard case .write(let bytes, let length, .icmpv6Write, id: 3) = intents.first else {
      Issue.record("expected an ICMPv6 write, got \(intents)")
      return
    }
    #expect(bytes == lab.tun.scratch(3))
    let reply = Array(UnsafeRawBufferPointer(start: bytes, count: length))
    #expect(length == 40 + 8 + 48)
    #expect(reply[40] == 1 && reply[41] == 0)
    #expect(Array(reply[8..<24]) == ipv6Bytes(0xfd10_0000_0000_000f, 0))
    #expect(referenceIPv6Checksum(reply, upperLayerAt: 40, protocol: 58) == 0)
    #expect(lab.counter(.dropIPv6NoRoute) == 1)
  }

  /// flannel0's own MLD reports (to ff02::16): dropped and counted apart, no ICMPv6 reply,
  /// not a "no route".
  @Test func multicastIsCountedApartWithoutAReply() {
    let lab = PipelineLab(dualStack: true)
    let report = IPv6Fields(destination: ipv6Bytes(0xff02_0000_0000_0000, 0x16)).bytes
    lab.read(report, into: 3, routes: PipelineLab.dualStackRoutes)
    #expect(lab.take() == [.recycleTun(3)])
    #expect(lab.counter(.dropIPv6Multicast) == 1)
    #expect(lab.counter(.dropIPv6NoRoute) == 0)
    #expect(lab.counter(.icmpv6Sent) == 0)
  }

  @Test func withAVirtioHeaderTheReplyHasAPlainOne() {
    let lab = PipelineLab(virtioHeader: true, dualStack: true)
    let offender = IPv6Fields(destination: ipv6Bytes(0xfd10_0000_0000_0063, 1)).bytes
    lab.read(offender, into: 3, routes: PipelineLab.dualStackRoutes)
    guard case .write(let bytes, let length, .icmpv6Write, id: 3) = lab.take().first else {
      Issue.record("expected an ICMPv6 write")
      return
    }
    #expect(length == VirtioNetHeader.size + 96)
    #expect(
      (0..<VirtioNetHeader.size).allSatisfy { bytes.load(fromByteOffset: $0, as: UInt8.self) == 0 })
    #expect(bytes.load(fromByteOffset: VirtioNetHeader.size, as: UInt8.self) == 0x60)
  }

  @Test(arguments: [
    (IPv6Fields(hopLimit: 1).bytes, Counter.dropHopLimit),
    (Array(IPv6Fields().bytes.prefix(30)), .dropIPv6Malformed),
    (IPv6Fields(payloadLength: 400).bytes, .dropIPv6Malformed),
    (IPv6Fields(nextHeader: 0, payload: [17, 1, 0, 0, 0, 0, 0, 0]).bytes, .dropIPv6Malformed),
  ])
  func aDroppedPacketIsCountedAndItsBufferGoesBack(packet: [UInt8], reason: Counter) {
    let lab = PipelineLab(dualStack: true)
    lab.read(packet, into: 5, routes: PipelineLab.dualStackRoutes)
    #expect(lab.take() == [.recycleTun(5)])
    #expect(lab.counter(reason) == 1)
  }

  @Test func anIPv6TSOSuperPacketIsSplitIntoGSOChunks() throws {
    let lab = PipelineLab(virtioHeader: true, dualStack: true)
    let packet = IPv6SplitTests.tcpSuperPacket(payload: 3000)
    lab.read(
      packet, into: 4, virtio: IPv6SplitTests.tso(gsoSize: 1000),
      routes: PipelineLab.dualStackRoutes)
    let intents = lab.take()
    guard case .send(let header, .splitSend, let slot) = try #require(intents.first) else {
      Issue.record("expected one split send, got \(intents)")
      return
    }
    #expect(intents.count == 1)
    let view = SendHeaderView(header)
    #expect(view.lengths == [60, 1000, 60, 1000, 60, 1000], "[header, payload] × 3")
    #expect(view.segmentSize == 1060)
    #expect(lab.counter(.tunSplitPackets) == 3)
    #expect(lab.counter(.ipv6PacketsSent) == 1)
    lab.tunToUDP.splitSendCompleted(slot, 3180)
    #expect(lab.take() == [.recycleTun(4)])
  }

  @Test func onAnIPv4NetworkIPv6IsDroppedAsBefore() {
    let lab = PipelineLab()
    lab.read(Self.routed, into: 5, routes: PipelineLab.dualStackRoutes)
    #expect(lab.take() == [.recycleTun(5)])
    #expect(lab.counter(.dropNotIPv4) == 1)
    lab.receive(Self.fromPeer, into: 1, routes: PipelineLab.dualStackRoutes)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropNotIPv4) == 2)
  }

  @Test func aPacketFromThePeersSubnetIsWrittenWithItsHopLimitDecremented() {
    let lab = PipelineLab(dualStack: true)
    lab.receive(Self.fromPeer, into: 1, routes: PipelineLab.dualStackRoutes)
    let intents = lab.take()
    guard case .write(let bytes, let length, .tunWrite, id: 1) = intents.first else {
      Issue.record("expected a TUN write, got \(intents)")
      return
    }
    #expect(length == Self.fromPeer.count)
    #expect(bytes.load(fromByteOffset: 7, as: UInt8.self) == 63)
    #expect(lab.counter(.ipv6PacketsWritten) == 1)
  }

  @Test func aGROTrainOfIPv6PacketsIsOneWriteEachWithAVirtioHeader() {
    let lab = PipelineLab(virtioHeader: true, dualStack: true)
    lab.receive(
      Self.fromPeer + Self.fromPeer, into: 2, segmentSize: Self.fromPeer.count,
      routes: PipelineLab.dualStackRoutes)
    let intents = lab.take()
    #expect(intents.count == 2)
    for intent in intents {
      guard case .writev(let vectors, 2, .tunWrite, id: 2) = intent else {
        Issue.record("expected [virtio header, packet] writes, got \(intents)")
        return
      }
      #expect(vectors[0].iov_len == VirtioNetHeader.size)
      #expect(vectors[1].iov_len == Self.fromPeer.count)
    }
  }

  @Test func aSourceOutsideTheSendersSubnetIsDropped() {
    let lab = PipelineLab(dualStack: true)
    let spoofed = IPv6Fields(
      source: ipv6Bytes(0xfd10_0000_0000_0003, 5), destination: ipv6Bytes(0xfd10_0000_0000_000f, 2)
    ).bytes
    lab.receive(spoofed, into: 1, routes: PipelineLab.dualStackRoutes)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropIPv6WrongSource) == 1)
    // The right subnet but another sender (a known one on the IPv4 side).
    let other = RouteSnapshot(
      [Route(network: 0x0a01_0300, prefixLength: 24, nextHop: 0xc0a8_5a03, port: 7890)]
        + PipelineLab.dualStackRoutes.routes, ipv6: PipelineLab.dualStackRoutes.ipv6)
    lab.receive(Self.fromPeer, into: 2, from: 0xc0a8_5a03, routes: other)
    #expect(lab.take() == [.recycleUDP(2)])
    #expect(lab.counter(.dropIPv6WrongSource) == 2)
    let open = PipelineLab(dualStack: true, acceptAnySource: true)
    open.receive(spoofed, into: 1, routes: PipelineLab.dualStackRoutes)
    #expect(open.counter(.ipv6PacketsWritten) == 1, "-udp-accept-any-source")
  }

  @Test func receivedHopLimitOneAndMalformedPacketsAreCounted() {
    let lab = PipelineLab(dualStack: true)
    var expiring = Self.fromPeer
    expiring[7] = 1
    lab.receive(expiring, into: 1, routes: PipelineLab.dualStackRoutes)
    lab.receive(Array(Self.fromPeer.prefix(39)), into: 2, routes: PipelineLab.dualStackRoutes)
    #expect(lab.take() == [.recycleUDP(1), .recycleUDP(2)])
    #expect(lab.counter(.dropHopLimit) == 1)
    #expect(lab.counter(.dropIPv6Malformed) == 1)
  }
}

/// Receive coalescing of IPv6: a GRO train of one TCP flow's segments is one TSO6 write.
@Suite struct IPv6CoalescingPipelineTests {
  @Test func aTrainOfOneFlowsIPv6SegmentsIsOneCoalescedWrite() throws {
    let lab = PipelineLab(virtioHeader: true, dualStack: true)
    var fields = IPv6Fields(
      source: ipv6Bytes(0xfd10_0000_0000_0002, 5), destination: ipv6Bytes(0xfd10_0000_0000_000f, 2))
    fields.nextHeader = 6
    var superPacket = IPv6SplitTests.tcpSuperPacket(payload: 400)
    superPacket.replaceSubrange(8..<40, with: fields.source + fields.destination)
    superPacket[53] = 0x10
    let pieces = try IPv6SplitTests.split(IPv6SplitTests.tso(gsoSize: 100), superPacket)
    #expect(pieces.count == 4)
    lab.receive(
      pieces.flatMap { $0 }, into: 6, segmentSize: 160, routes: PipelineLab.dualStackRoutes)
    let intents = lab.take()
    guard case .writev(let vectors, let count, .tunWriteCoalesced, id: 6) = intents.first else {
      Issue.record("expected one coalesced write, got \(intents)")
      return
    }
    #expect(intents.count == 1)
    #expect(count == 1 + 4, "[virtio header, head, 3 payloads]")
    let header = VirtioNetHeader(UnsafeRawPointer(vectors[0].iov_base!))
    #expect(header.gsoType == VirtioNetHeader.gsoTCPv6 && header.gsoSize == 100)
    #expect(lab.counter(.tunCoalescedPackets) == 4)
    #expect(lab.counter(.ipv6PacketsWritten) == 4)
  }
}
