import CLibURing
import CSystemShims
import Glibc

@testable import DataPlane

/// Both pipelines over plain memory laid out as the rings lay out their buffers: packets and
/// datagrams are put into buffers by hand, the pipelines' intents are read back. No ring, no
/// descriptor, no kernel.
final class PipelineLab {
  static let count = 8
  static let packetSize = 4096
  /// The only route: 10.1.2.0/24 via 192.168.90.2:7890.
  static let peer: UInt32 = 0xc0a8_5a02
  static let routes = RouteSnapshot([
    Route(network: 0x0a01_0200, prefixLength: 24, nextHop: peer, port: 7890)
  ])

  let virtioHeaderSize: Int
  let tunMemory: UnsafeMutableRawPointer
  let udpMemory: UnsafeMutableRawPointer
  let tun: PacketBuffers
  let udp: PacketBuffers
  let bank: CounterBank
  let intents = LoopIntents()
  let offloads: SharedOffloadState
  let headers: MessageHeaders
  let tunToUDP: TunToUDPPipeline
  let udpToTun: UDPToTunPipeline
  /// The udp buffers' layout (the IPv4 socket's, or the IPv6 one's with `underlayIPv6`).
  let layout: ReceiveLayout

  /// Room before each TUN buffer (the tunnel writes its header there), as the ring keeps it
  /// for a tunnel: a header written further back would corrupt the buffer before.
  static let headroom = TunnelCodec.headroom

  /// The dual-stack table: `routes` and fd10:0:0:2::/64 via the same peer.
  static let dualStackRoutes = RouteSnapshot(
    [Route(network: 0x0a01_0200, prefixLength: 24, nextHop: peer, port: 7890)],
    ipv6: IPv6RouteTable([
      IPv6ForwardingRoute(
        high: 0xfd10_0000_0000_0002, low: 0, prefixLength: 64, nextHop: peer, port: 7890)
    ]))
  /// flannel0's IPv6 address on a dual-stack lab: fd10:0:0:f:: (its lease's subnet address).
  static let tunIPv6 = TunIPv6Address(high: 0xfd10_0000_0000_000f, low: 0)

  /// The IPv6-only table (IPv6 underlay): fd10:0:0:2::/64 via [fd00:77::12]:7890 and
  /// fd10:0:0:3::/64 via [fd00:77::13]:7890.
  static let peer6 = (high: UInt64(0xfd00_0077_0000_0000), low: UInt64(0x12))
  static let otherPeer6 = (high: UInt64(0xfd00_0077_0000_0000), low: UInt64(0x13))
  static let ipv6OnlyRoutes = RouteSnapshot(
    [],
    ipv6: IPv6RouteTable([
      IPv6ForwardingRoute(
        high: 0xfd10_0000_0000_0002, low: 0, prefixLength: 64,
        underlay: .ipv6(high: peer6.high, low: peer6.low), port: 7890),
      IPv6ForwardingRoute(
        high: 0xfd10_0000_0000_0003, low: 0, prefixLength: 64,
        underlay: .ipv6(high: otherPeer6.high, low: otherPeer6.low), port: 7890),
    ]))

  /// `underlayIPv6`: the pipelines of an AF_INET6 socket (an IPv6-only network).
  init(
    virtioHeader: Bool = false, offloads active: TunOffloads = .all, tunnel: TunnelCodec? = nil,
    bank: CounterBank = CounterBank(), dualStack: Bool = false, acceptAnySource: Bool = false,
    underlayIPv6: Bool = false
  ) {
    self.bank = bank
    virtioHeaderSize = virtioHeader ? VirtioNetHeader.size : 0
    let tunStride = Self.headroom + Self.packetSize + TunQueue.scratchSize + 64
    layout = ReceiveLayout(ipv6: underlayIPv6)
    let udpStride = layout.payloadOffset + Self.packetSize + 64
    tunMemory = .allocate(byteCount: Self.headroom + Self.count * tunStride, alignment: 4096)
    udpMemory = .allocate(byteCount: Self.count * udpStride, alignment: 4096)
    tunMemory.initializeMemory(
      as: UInt8.self, repeating: 0, count: Self.headroom + Self.count * tunStride)
    udpMemory.initializeMemory(as: UInt8.self, repeating: 0, count: Self.count * udpStride)
    tun = PacketBuffers(
      base: tunMemory + Self.headroom, stride: tunStride, bufferSize: Self.packetSize)
    udp = PacketBuffers(base: udpMemory, stride: udpStride, bufferSize: Self.packetSize)
    offloads = SharedOffloadState(OffloadState(active: active))
    headers = MessageHeaders(
      count: TunToUDPBuffers.sendHeaders(tunBufferCount: Self.count, splitting: true),
      nameLength: underlayIPv6
        ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    tunToUDP = TunToUDPPipeline(
      tun: tun,
      state: TunToUDPBuffers(tunBufferCount: Self.count, splitting: true, sealing: tunnel != nil),
      headers: headers, offloads: offloads, bank: bank, intents: intents,
      virtioHeaderSize: virtioHeaderSize, tunAddress: 0x0a01_0f00,
      tunIPv6: dualStack || underlayIPv6 ? Self.tunIPv6 : nil, tunnel: tunnel)
    udpToTun = UDPToTunPipeline(
      udp: udp,
      state: UDPToTunBuffers(udpBufferCount: Self.count, virtioHeaderSize: virtioHeaderSize),
      offloads: offloads, bank: bank, intents: intents, virtioHeaderSize: virtioHeaderSize,
      maxDatagramSize: 65535, acceptAnySource: acceptAnySource, ipv6: dualStack, tunnel: tunnel,
      underlayIPv6: underlayIPv6)
  }

  deinit {
    tunMemory.deallocate()
    udpMemory.deallocate()
  }

  /// Puts `packet` into TUN buffer `id` (after a virtio header when the lab has one) and hands
  /// it to the pipeline as a read of that many bytes.
  func read(
    _ packet: [UInt8], into id: Int, virtio: VirtioNetHeader = VirtioNetHeader(),
    routes: RouteSnapshot = PipelineLab.routes
  ) {
    let buffer = tun.buffer(id)
    if virtioHeaderSize > 0 { virtio.store(buffer) }
    packet.withUnsafeBytes {
      (buffer + virtioHeaderSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
    }
    tunToUDP.packetRead(id, Int32(packet.count + virtioHeaderSize), routes)
  }

  /// Lays a received datagram (or, with `segmentSize`, a GRO train) into udp buffer `id` as a
  /// multishot RECVMSG leaves it, and hands it to the pipeline.
  func receive(
    _ payload: [UInt8], into id: Int, from address: UInt32 = peer, segmentSize: Int? = nil,
    truncated: Bool = false, routes: RouteSnapshot = PipelineLab.routes
  ) {
    let buffer = udp.buffer(id)
    var header = io_uring_recvmsg_out()
    header.namelen = UInt32(MemoryLayout<sockaddr_in>.size)
    header.payloadlen = UInt32(payload.count)
    header.flags = truncated ? UInt32(MSG_TRUNC) : 0
    var name = sockaddr_in()
    name.sin_family = sa_family_t(AF_INET)
    name.sin_port = UInt16(7890).bigEndian
    name.sin_addr.s_addr = address.bigEndian
    let control = buffer + layout.controlOffset
    if let segmentSize {
      header.controllen = UInt32(FLANNEL_CMSG_SPACE_INT)
      control.storeBytes(of: Int(FLANNEL_CMSG_DATA_OFFSET) + 4, as: Int.self)
      control.storeBytes(
        of: Int32(FLANNEL_SOL_UDP), toByteOffset: Int(FLANNEL_CMSG_LEVEL_OFFSET), as: Int32.self)
      control.storeBytes(
        of: Int32(FLANNEL_UDP_GRO), toByteOffset: Int(FLANNEL_CMSG_TYPE_OFFSET), as: Int32.self)
      control.storeBytes(
        of: Int32(segmentSize), toByteOffset: Int(FLANNEL_CMSG_DATA_OFFSET), as: Int32.self)
    }
    buffer.storeBytes(of: header, as: io_uring_recvmsg_out.self)
    buffer.storeBytes(of: name, toByteOffset: ReceivedDatagram.headerSize, as: sockaddr_in.self)
    payload.withUnsafeBytes {
      (buffer + layout.payloadOffset).copyMemory(
        from: $0.baseAddress!, byteCount: $0.count)
    }
    udpToTun.datagramReceived(id, Int32(payload.count), routes)
  }

  /// The same from an IPv6 sender (a sockaddr_in6 name, as an AF_INET6 socket receives);
  /// `nameLength` and `family` override what the kernel would say, for malformed names.
  func receive6(
    _ payload: [UInt8], into id: Int, from address: (high: UInt64, low: UInt64) = peer6,
    nameLength: Int = MemoryLayout<sockaddr_in6>.size, family: Int32 = AF_INET6,
    routes: RouteSnapshot = PipelineLab.ipv6OnlyRoutes
  ) {
    let buffer = udp.buffer(id)
    var header = io_uring_recvmsg_out()
    header.namelen = UInt32(nameLength)
    header.payloadlen = UInt32(payload.count)
    var name = makeSocketAddress6(high: address.high, low: address.low, port: 7890)
    name.sin6_family = sa_family_t(family)
    buffer.storeBytes(of: header, as: io_uring_recvmsg_out.self)
    buffer.storeBytes(of: name, toByteOffset: ReceivedDatagram.headerSize, as: sockaddr_in6.self)
    payload.withUnsafeBytes {
      (buffer + layout.payloadOffset).copyMemory(
        from: $0.baseAddress!, byteCount: $0.count)
    }
    udpToTun.datagramReceived(id, Int32(payload.count), routes)
  }

  /// Two 100-byte packets to the peer read into buffers 0 and 1 and sent as one GSO run (the
  /// send intent taken): a run in flight.
  func runInFlight() {
    read(Self.packet(), into: 0)
    read(Self.packet(), into: 1)
    tunToUDP.flush()
    _ = take()
  }

  /// The intents so far, emptied.
  func take() -> [LoopIntent] {
    defer { intents.removeAll() }
    return intents.all
  }

  func counter(_ counter: Counter) -> UInt64 {
    bank.publish()
    return bank.snapshot()[counter]
  }

  /// A packet to 10.1.2.5 (routed) or elsewhere, `size` bytes in all.
  static func packet(
    size: Int = 100, to destination: UInt32 = 0x0a01_0205, ttl: UInt8 = 64
  ) -> [UInt8] {
    IPv4Fields(ttl: ttl, destination: destination, payload: [UInt8](repeating: 7, count: size - 20))
      .bytes
  }
}

/// What a send intent's msghdr says: its iovecs' lengths, the UDP_SEGMENT size (nil: none)
/// and the destination.
struct SendHeaderView: Equatable {
  var lengths: [Int]
  var segmentSize: Int?
  var address: UInt32
  var port: UInt16

  init(_ header: UnsafeMutablePointer<msghdr>) {
    let h = header.pointee
    lengths = (0..<h.msg_iovlen).map { h.msg_iov[$0].iov_len }
    segmentSize =
      h.msg_controllen > 0
      ? Int(
        h.msg_control!.load(fromByteOffset: Int(FLANNEL_CMSG_DATA_OFFSET), as: UInt16.self))
      : nil
    let name = h.msg_name!.load(as: sockaddr_in.self)
    address = UInt32(bigEndian: name.sin_addr.s_addr)
    port = UInt16(bigEndian: name.sin_port)
  }

  init(lengths: [Int], segmentSize: Int?, address: UInt32 = PipelineLab.peer, port: UInt16 = 7890) {
    self.lengths = lengths
    self.segmentSize = segmentSize
    self.address = address
    self.port = port
  }
}
