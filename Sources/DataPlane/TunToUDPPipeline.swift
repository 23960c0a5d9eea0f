#if canImport(Glibc)
  import Glibc
#endif

/// tun → udp, decided without the ring: a packet read from the TUN is checked, routed, its TTL
/// decremented, and sent to the lease's PublicIP from the same buffer; consecutive packets to
/// one peer of one size go as one UDP GSO send (`SegmentRuns`); no route → an ICMP net
/// unreachable back into the TUN; TSO/USO super-packets are split (`+Split`). The result is a
/// list of `LoopIntent`s the loop submits. Forwarder thread only.
final class TunToUDPPipeline {
  let tun: PacketBuffers
  let state: TunToUDPBuffers
  let headers: MessageHeaders
  let offloads: SharedOffloadState
  let bank: CounterBank
  let intents: LoopIntents
  /// Bytes of `VirtioNetHeader` before every packet (0 without IFF_VNET_HDR).
  let virtioHeaderSize: Int
  /// Source of the ICMP replies: the lease's network address (stock's tun_ip).
  let tunAddress: UInt32
  /// On a dual-stack network: flannel0's IPv6 address (source of the ICMPv6 replies), and
  /// IPv6 packets are forwarded (`+IPv6`); nil: they are dropped as not IPv4.
  let tunIPv6: TunIPv6Address?
  /// The WireGuard step (nil for the udp backend): each packet is sealed in place into a
  /// transport message that starts `TransportLayout.headerSize` bytes before it.
  let tunnel: TunnelCodec?
  /// Where a datagram starts in its buffer: the packet, or the transport header before it.
  let sendOffset: Int

  init(
    tun: PacketBuffers, state: TunToUDPBuffers, headers: MessageHeaders,
    offloads: SharedOffloadState, bank: CounterBank, intents: LoopIntents,
    virtioHeaderSize: Int, tunAddress: UInt32, tunIPv6: TunIPv6Address? = nil,
    tunnel: TunnelCodec? = nil
  ) {
    self.tun = tun
    self.state = state
    self.headers = headers
    self.offloads = offloads
    self.bank = bank
    self.intents = intents
    self.virtioHeaderSize = virtioHeaderSize
    self.tunAddress = tunAddress
    self.tunIPv6 = tunIPv6
    self.tunnel = tunnel
    sendOffset = virtioHeaderSize &- (tunnel == nil ? 0 : TunnelCodec.headroom)
  }

  /// TUN buffer `id` holds `result` bytes (virtio header included), or the read failed.
  @inline(__always)
  func packetRead(_ id: Int, _ result: Int32, _ routes: RouteSnapshot) {
    guard result > 0 else {
      bank.countReadFailure(result)
      intents.append(.recycleTun(id))
      return
    }
    var length = Int(result) &- virtioHeaderSize
    bank.add(.tunPacketsRead)
    bank.add(.tunBytesRead, UInt64(max(length, 0)))
    let packet = tun.buffer(id) + virtioHeaderSize
    var virtio = VirtioNetHeader()
    if virtioHeaderSize > 0 {
      virtio = VirtioNetHeader(UnsafeRawPointer(tun.buffer(id)))
      guard checksumComplete(virtio, packet, length) else { return drop(id, .dropBadHeader) }
    }
    if let tunIPv6, length > 0, packet.load(as: UInt8.self) >> 4 == 6 {
      return ipv6PacketRead(id, virtio, packet, length, routes.ipv6, tunIPv6)
    }
    let verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    guard verdict == .forward else { return drop(id, Counter.drop(for: verdict)) }
    let routeIndex = routes.index(for: IPv4Packet.destination(UnsafeRawPointer(packet)))
    guard routeIndex >= 0 else {
      bank.add(.dropNoRoute)
      replyNetUnreachable(id, packet, length)
      return
    }
    let nextHop = routes.nextHop(at: routeIndex)
    guard IPv4Packet.decrementTTL(packet) == .forward else { return drop(id, .dropTTL) }
    if virtio.gsoType != VirtioNetHeader.gsoNone {
      superPacketRead(
        id, virtio, packet, length, nextHop.pointee.address, routeIndex: routeIndex)
      return
    }
    if let tunnel {
      let sealed = tunnel.seal(
        packet, length: length, room: tun.bufferSize &- virtioHeaderSize,
        routeIndex: routeIndex)
      guard sealed > 0 else {
        if sealed == TunnelCodec.mustStage { return stage(id, length: length, routeIndex, tunnel) }
        intents.append(.recycleTun(id))
        return
      }
      length = sealed
    }
    enqueue(id, length: length, nextHop)
  }

  /// A packet ready to go to `nextHop`: it joins the run being built, or starts the next one.
  @inline(__always)
  func enqueue(_ id: Int, length: Int, _ nextHop: UnsafePointer<NextHop>) {
    let destination = nextHop.pointee.key
    if !state.runs.append(id, length: length, destination: destination) {
      flush()
      state.runs.start(
        id, length: length, destination: destination,
        mayGrow: offloads.state.runMayGrow(segmentSize: length))
      state.runDestination = nextHop.pointee.address
    }
  }

  /// A plain packet whose L4 checksum the kernel left to us (NEEDS_CSUM): finished here.
  @inline(__always)
  private func checksumComplete(
    _ virtio: VirtioNetHeader, _ packet: UnsafeMutableRawPointer, _ length: Int
  ) -> Bool {
    virtio.gsoType != VirtioNetHeader.gsoNone
      || virtio.flags & VirtioNetHeader.needsChecksum == 0
      || SuperPacket.completeChecksum(virtio, packet: packet, length: length)
  }

  @inline(__always)
  func drop(_ id: Int, _ reason: Counter) {
    bank.add(reason)
    intents.append(.recycleTun(id))
  }

  /// No route: an ICMP net unreachable back into the TUN, built in the buffer's scratch space
  /// (stock flanneld does the same).
  @inline(__always)
  private func replyNetUnreachable(_ id: Int, _ packet: UnsafeMutableRawPointer, _ length: Int) {
    let scratch = tun.scratch(id)
    if virtioHeaderSize > 0 { VirtioNetHeader.storePlain(scratch) }
    let reply = NetUnreachable.build(
      offender: UnsafeRawPointer(packet), length: length, tunAddress: tunAddress,
      into: scratch + virtioHeaderSize, capacity: TunQueue.scratchSize - virtioHeaderSize)
    guard reply > 0 else {
      intents.append(.recycleTun(id))
      return
    }
    intents.append(.write(scratch, length: reply &+ virtioHeaderSize, .icmpWrite, id: id))
  }

  /// Sends the run being built (if any) with one SENDMSG: UDP GSO when it holds several
  /// packets.
  @inline(__always)
  func flush() {
    guard let run = state.runs.take() else { return }
    let header = headers.prepareSend(
      head: run.head, count: run.count, segmentSize: run.segmentSize, runs: state.runs,
      buffers: tun, packetOffset: sendOffset, to: state.runDestination)
    intents.append(.send(header, .udpSend, id: run.head))
  }

  /// A send of the run headed by `head` completed: count it, hand its buffers back. A failed
  /// one goes to `OffloadState`, which may have each packet sent again on its own.
  @inline(__always)
  func sendCompleted(_ head: Int, _ result: Int32) {
    guard result >= 0 else {
      sendFailed(head, errno: -result)
      return
    }
    let packets = releaseRun(head, countingDrops: false)
    bank.add(.udpPacketsSent, UInt64(packets))
    bank.add(.udpBytesSent, UInt64(result))
  }

  /// A send intent the loop could not submit (no SQE free): its packets are dropped.
  func sendNotSubmitted(_ head: Int) {
    releaseRun(head, countingDrops: true)
  }

  /// A refused UDP GSO send of a run: its packets go again, each in a send of its own (a plain
  /// send fragments what is above the path MTU, as it always did); any other failure drops
  /// them.
  @inline(never)
  private func sendFailed(_ head: Int, errno: Int32) {
    let runs = state.runs
    var segments = 0
    var id = head
    while id >= 0 {
      segments &+= 1
      id = Int(runs.next[id])
    }
    let operation = OffloadState.Operation.runSend(
      segments: segments, segmentSize: Int(runs.lengths[head]))
    guard offloads.failed(operation, errno: errno, intents) == .resendEachPacket else {
      releaseRun(head, countingDrops: true)
      return
    }
    flush()  // the run being built, before its bookkeeping is reused
    let destination = headers.destinations[head]
    id = head
    while id >= 0 {
      let following = Int(runs.next[id])
      runs.start(id, length: Int(runs.lengths[id]), destination: 0, mayGrow: false)
      state.runDestination = destination
      flush()
      id = following
    }
  }

  /// Hands back every buffer of the run headed by `head`; returns how many there were.
  @inline(__always)
  @discardableResult
  private func releaseRun(_ head: Int, countingDrops: Bool) -> Int {
    var packets = 0
    var id = head
    while id >= 0 {
      let following = Int(state.runs.next[id])
      intents.append(.recycleTun(id))
      packets &+= 1
      id = following
    }
    if countingDrops { bank.add(.dropSendError, UInt64(packets)) }
    return packets
  }
}
