import CSystemShims
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

  @Test func anIPv6SuperPacketIsDroppedNotSent() {
    let lab = PipelineLab(virtioHeader: true, dualStack: true)
    var virtio = VirtioNetHeader()
    virtio.gsoType = VirtioNetHeader.gsoTCPv6
    virtio.gsoSize = 1000
    lab.read(Self.routed, into: 4, virtio: virtio, routes: PipelineLab.dualStackRoutes)
    #expect(lab.take() == [.recycleTun(4)])
    #expect(lab.counter(.dropOffload) == 1)
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

/// A dual-stack TUN is never offered TSO6 or USO (the kernel takes USO only for both
/// families): no IPv6 super-packet the split cannot cut reaches the forwarder.
@Suite struct TunOffloadsIPv6Tests {
  @Test func aDualStackTUNGetsTSO4Only() {
    let all = TunOffloads.all
    #expect(
      all.kernelFlags()
        == flannel_TUN_F_CSUM | flannel_TUN_F_TSO4 | flannel_TUN_F_TSO6 | flannel_TUN_F_USO4
        | flannel_TUN_F_USO6)
    #expect(all.kernelFlags(ipv4Only: true) == flannel_TUN_F_CSUM | flannel_TUN_F_TSO4)
  }
}
