import Glibc
import Testing

@testable import DataPlane

/// The two pipelines fed completions over plain buffers, their intents compared: what the ring
/// would be asked to do, decided without one.
@Suite struct TunToUDPPipelineTests {
  @Test func samePeerSameSizeIsOneGSOSendAndItsCompletionHandsTheBuffersBack() throws {
    let lab = PipelineLab()
    lab.read(PipelineLab.packet(), into: 0)
    lab.read(PipelineLab.packet(), into: 1)
    lab.read(PipelineLab.packet(size: 60), into: 2)  // shorter: joins and ends the run
    #expect(lab.take().isEmpty, "the run is still open")
    lab.tunToUDP.flush()
    let intents = lab.take()
    guard case .send(let header, .udpSend, id: 0) = try #require(intents.first) else {
      Issue.record("expected one run send, got \(intents)")
      return
    }
    #expect(intents.count == 1)
    #expect(SendHeaderView(header) == SendHeaderView(lengths: [100, 100, 60], segmentSize: 100))
    #expect(lab.tun.buffer(1).load(fromByteOffset: 8, as: UInt8.self) == 63, "TTL decremented")
    lab.tunToUDP.sendCompleted(0, 260)
    #expect(lab.take() == [.recycleTun(0), .recycleTun(1), .recycleTun(2)])
    #expect(lab.counter(.udpPacketsSent) == 3)
    #expect(lab.counter(.udpBytesSent) == 260)
  }

  @Test func anotherPeerOrALongerPacketStartsANewSend() {
    let lab = PipelineLab()
    lab.read(PipelineLab.packet(), into: 0)
    lab.read(PipelineLab.packet(size: 200), into: 1)
    let first = lab.take()
    #expect(first.count == 1)
    if case .send(let header, .udpSend, id: 0) = first.first {
      #expect(SendHeaderView(header) == SendHeaderView(lengths: [100], segmentSize: nil))
    } else {
      Issue.record("expected the first packet sent alone, got \(first)")
    }
  }

  @Test func noRouteIsAnICMPReplyWrittenBackFromTheScratchSpace() {
    let lab = PipelineLab()
    lab.read(PipelineLab.packet(to: 0x0a09_0001), into: 3)
    let intents = lab.take()
    guard case .write(let bytes, let length, .icmpWrite, id: 3) = intents.first else {
      Issue.record("expected an ICMP write, got \(intents)")
      return
    }
    #expect(bytes == lab.tun.scratch(3))
    #expect(length == 56)
    #expect(bytes.load(fromByteOffset: 20, as: UInt8.self) == 3, "destination unreachable")
    #expect(bytes.load(fromByteOffset: 21, as: UInt8.self) == 0, "net unreachable")
    #expect(lab.counter(.dropNoRoute) == 1)
  }

  @Test(arguments: [
    (PipelineLab.packet(ttl: 1), Counter.dropTTL),
    (Array(PipelineLab.packet().prefix(12)), .dropShort),
    ([0x60] + Array(PipelineLab.packet().dropFirst()), .dropNotIPv4),
  ])
  func aDroppedPacketIsCountedAndItsBufferGoesBack(packet: [UInt8], reason: Counter) {
    let lab = PipelineLab()
    lab.read(packet, into: 5)
    #expect(lab.take() == [.recycleTun(5)])
    #expect(lab.counter(reason) == 1)
  }

  @Test func aRefusedGSOSendGoesAgainPacketByPacketAndLongerPacketsGoAloneFromThenOn() throws {
    let lab = PipelineLab()
    lab.runInFlight()
    lab.tunToUDP.sendCompleted(0, -EMSGSIZE)
    let resent = lab.take()
    #expect(resent.count == 2)
    for (intent, id) in zip(resent, [0, 1]) {
      guard case .send(let header, .udpSend, id: id) = intent else {
        Issue.record("expected a send of \(id) alone, got \(intent)")
        continue
      }
      #expect(SendHeaderView(header) == SendHeaderView(lengths: [100], segmentSize: nil))
    }
    #expect(!lab.offloads.state.runMayGrow(segmentSize: 100))
    #expect(lab.offloads.state.groupsSends)
  }

  @Test func eioTurnsUDPGSOAndTSOOffOnceWithOneIntent() {
    let lab = PipelineLab()
    lab.runInFlight()
    lab.tunToUDP.sendCompleted(0, -EIO)
    let intents = lab.take()
    #expect(
      intents.first
        == .offloadsOff(
          OffloadState.Decision(
            action: .resendEachPacket,
            turnedOff: [.socketSegmentation, .tcpSegmentation, .udpSegmentation]),
          after: .runSend(segments: 2, segmentSize: 100), errno: EIO))
    #expect(intents.count == 3, "the notice, then each packet again")
    #expect(!lab.offloads.state.groupsSends)
  }

  @Test func anotherSendErrorDropsTheRun() {
    let lab = PipelineLab()
    lab.runInFlight()
    lab.tunToUDP.sendCompleted(0, -ENETUNREACH)
    #expect(lab.take() == [.recycleTun(0), .recycleTun(1)])
    #expect(lab.counter(.dropSendError) == 2)
  }

  @Test func aTSOSuperPacketIsSplitIntoGSOChunksAndItsBufferWaitsForThem() throws {
    let lab = PipelineLab(virtioHeader: true)
    var tcp = TCPSegmentFields(payload: [UInt8](repeating: 9, count: 3000))
    tcp.flags = 0x18
    let packet = tcp.bytes
    let virtio = VirtioNetHeader(
      flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv4, headerLength: 40,
      gsoSize: 1000, checksumStart: 20, checksumOffset: 16)
    lab.read(packet, into: 4, virtio: virtio)
    let intents = lab.take()
    #expect(intents.count == 1)
    guard case .send(let header, .splitSend, let slot) = intents.first else {
      Issue.record("expected one split send, got \(intents)")
      return
    }
    let view = SendHeaderView(header)
    #expect(view.lengths == [40, 1000, 40, 1000, 40, 1000], "[header, payload] × 3")
    #expect(view.segmentSize == 1040)
    #expect(lab.counter(.tunSplitPackets) == 3)
    lab.tunToUDP.splitSendCompleted(slot, 3120)
    #expect(lab.take() == [.recycleTun(4)])
    #expect(lab.counter(.udpPacketsSent) == 3)
  }
}

@Suite struct UDPToTunPipelineTests {
  @Test func aGROTrainIsOneWritePerPacketAndTheBufferGoesBackAfterTheLast() {
    let lab = PipelineLab()
    let train = (0..<3).flatMap { _ in PipelineLab.packet() }
    lab.receive(train, into: 2, segmentSize: 100)
    let intents = lab.take()
    #expect(intents.count == 3)
    for (i, intent) in intents.enumerated() {
      guard case .write(let bytes, let length, .tunWrite, id: 2) = intent else {
        Issue.record("expected a TUN write, got \(intent)")
        continue
      }
      #expect(length == 100)
      #expect(bytes == lab.udp.buffer(2) + ReceiveLayout.ipv4.payloadOffset + 100 * i)
      #expect(bytes.load(fromByteOffset: 8, as: UInt8.self) == 63, "TTL decremented")
    }
    lab.udpToTun.writeCompleted(2, 100, coalesced: false)
    lab.udpToTun.writeCompleted(2, 100, coalesced: false)
    #expect(lab.take().isEmpty)
    lab.udpToTun.writeCompleted(2, 100, coalesced: false)
    #expect(lab.take() == [.recycleUDP(2)])
    #expect(lab.counter(.tunPacketsWritten) == 3)
    #expect(lab.counter(.udpPacketsReceived) == 3)
  }

  @Test func anUnknownSenderOrATruncatedDatagramIsDroppedWhole() {
    let lab = PipelineLab()
    lab.receive(PipelineLab.packet(), into: 1, from: 0xc0a8_5a63)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropUnknownSource) == 1)
    lab.receive(PipelineLab.packet(), into: 1, truncated: true)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropTruncated) == 1)
  }

  @Test func consecutiveSegmentsOfOneFlowAreOneCoalescedWrite() throws {
    let lab = PipelineLab(virtioHeader: true)
    var first = TCPSegmentFields(payload: [UInt8](repeating: 1, count: 100))
    first.flags = 0x10
    let segments = segmentRun([100, 100, 100], first: first)
    lab.receive(segments.flatMap { $0 }, into: 6, segmentSize: 140)
    let intents = lab.take()
    #expect(intents.count == 1)
    guard case .writev(let vectors, let count, .tunWriteCoalesced, id: 6) = intents.first else {
      Issue.record("expected one coalesced write, got \(intents)")
      return
    }
    // [virtio header slot, first packet, payload 2, payload 3]
    #expect((0..<count).map { vectors[$0].iov_len } == [VirtioNetHeader.size, 140, 100, 100])
    #expect(lab.counter(.tunCoalescedPackets) == 3)
    lab.udpToTun.writeCompleted(6, -EINVAL, coalesced: true)
    let after = lab.take()
    #expect(
      after
        == [
          .offloadsOff(
            OffloadState.Decision(action: .drop, turnedOff: .receiveCoalescing),
            after: .coalescedWrite, errno: EINVAL),
          .recycleUDP(6),
        ])
    #expect(!lab.offloads.state.coalescesTCP)
  }
}
