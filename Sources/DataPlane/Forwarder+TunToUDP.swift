import CLibURing

#if canImport(Glibc)
  import Glibc
#endif

/// tun → udp: a packet read from the TUN is checked, routed, its TTL decremented, and sent to
/// the lease's PublicIP from the same buffer; consecutive packets to one peer of one size are
/// grouped into one UDP GSO send (`SegmentRuns`).
extension Forwarder {
  @inline(__always)
  func tunPacketRead(_ id: Int, _ result: Int32, _ loop: LoopParts, _ routes: RouteSnapshot) {
    let tun = loop.tun.buffers
    guard result > 0 else {
      countReadFailure(result)
      tun.recycle(id)
      return
    }
    let length = Int(result) &- virtioHeaderSize
    bank.add(.tunPacketsRead)
    bank.add(.tunBytesRead, UInt64(max(length, 0)))
    let packet = tun.buffer(id) + virtioHeaderSize
    var virtio = VirtioNetHeader()
    if virtioHeaderSize > 0 {
      virtio = VirtioNetHeader(UnsafeRawPointer(tun.buffer(id)))
      if virtio.gsoType == VirtioNetHeader.gsoNone
        && virtio.flags & VirtioNetHeader.needsChecksum != 0
        && !SuperPacket.completeChecksum(virtio, packet: packet, length: length)
      {
        bank.add(.dropBadHeader)
        tun.recycle(id)
        return
      }
    }
    let verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    guard verdict == .forward else {
      bank.add(Counter.drop(for: verdict))
      tun.recycle(id)
      return
    }
    guard let nextHop = routes.nextHop(for: IPv4Packet.destination(UnsafeRawPointer(packet)))
    else {
      bank.add(.dropNoRoute)
      replyNetUnreachable(id, packet, length, loop)
      return
    }
    guard IPv4Packet.decrementTTL(packet) == .forward else {
      bank.add(.dropTTL)
      tun.recycle(id)
      return
    }
    if virtio.gsoType != VirtioNetHeader.gsoNone {
      superPacketRead(id, virtio, packet, length, nextHop.pointee, loop)
      return
    }
    let destination =
      UInt64(nextHop.pointee.sin_addr.s_addr) << 16 | UInt64(nextHop.pointee.sin_port)
    let outbound = loop.tunToUDP
    if !outbound.runs.append(id, length: length, destination: destination) {
      sendRun(loop)
      outbound.runs.start(
        id, length: length, destination: destination,
        mayGrow: offloadState.runMayGrow(segmentSize: length))
      outbound.runDestination = nextHop.pointee
    }
  }

  /// No route: an ICMP net unreachable back into the TUN, built in the buffer's scratch space
  /// (stock flanneld does the same).
  @inline(__always)
  private func replyNetUnreachable(
    _ id: Int, _ packet: UnsafeMutableRawPointer, _ length: Int, _ loop: LoopParts
  ) {
    let scratch = loop.tun.buffers.scratch(id)
    if virtioHeaderSize > 0 { VirtioNetHeader.storePlain(scratch) }
    let reply = NetUnreachable.build(
      offender: UnsafeRawPointer(packet), length: length,
      tunAddress: configuration.tunAddress, into: scratch + virtioHeaderSize,
      capacity: TunQueue.scratchSize - virtioHeaderSize)
    guard reply > 0,
      loop.tun.prepareWrite(
        loop.submitter, scratch, length: reply &+ virtioHeaderSize, as: .icmpWrite, id: id)
    else {
      loop.tun.buffers.recycle(id)
      return
    }
  }

  /// Sends the run being built (if any) with one SENDMSG: UDP GSO when it holds several
  /// packets.
  @inline(__always)
  func sendRun(_ loop: LoopParts) {
    let outbound = loop.tunToUDP
    guard let run = outbound.runs.take() else { return }
    let header = loop.udp.headers.prepareSend(
      head: run.head, count: run.count, segmentSize: run.segmentSize, runs: outbound.runs,
      ring: loop.tun.buffers, packetOffset: virtioHeaderSize, to: outbound.runDestination)
    guard loop.udp.prepareSend(loop.submitter, header, as: .udpSend, id: run.head) else {
      releaseRun(run.head, loop, countingDrops: true)
      return
    }
    bank.add(.udpSends)
  }

  /// A send of the run headed by `head` completed: count it, recycle its buffers. A failed
  /// one goes to `OffloadState`, which may have each packet sent again on its own.
  @inline(__always)
  func sendCompleted(_ head: Int, _ result: Int32, _ loop: LoopParts) {
    guard result >= 0 else {
      sendFailed(head, errno: -result, loop)
      return
    }
    let packets = releaseRun(head, loop, countingDrops: false)
    bank.add(.udpPacketsSent, UInt64(packets))
    bank.add(.udpBytesSent, UInt64(result))
  }

  /// A refused UDP GSO send of a run: its packets go again, each in a send of its own (a plain
  /// send fragments what is above the path MTU, as it always did); any other failure drops
  /// them.
  @inline(never)
  private func sendFailed(_ head: Int, errno: Int32, _ loop: LoopParts) {
    let runs = loop.tunToUDP.runs
    var segments = 0
    var id = head
    while id >= 0 {
      segments &+= 1
      id = Int(runs.next[id])
    }
    let operation = OffloadState.Operation.runSend(
      segments: segments, segmentSize: Int(runs.lengths[head]))
    guard offloadFailed(operation, errno: errno) == .resendEachPacket else {
      releaseRun(head, loop, countingDrops: true)
      return
    }
    sendRun(loop)  // the run being built, before its bookkeeping is reused
    let destination = loop.udp.headers.destinations[head]
    id = head
    while id >= 0 {
      let following = Int(runs.next[id])
      runs.start(id, length: Int(runs.lengths[id]), destination: 0, mayGrow: false)
      loop.tunToUDP.runDestination = destination
      sendRun(loop)
      id = following
    }
  }

  /// Recycles every buffer of the run headed by `head`; returns how many there were.
  @inline(__always)
  @discardableResult
  private func releaseRun(_ head: Int, _ loop: LoopParts, countingDrops: Bool) -> Int {
    var packets = 0
    var id = head
    while id >= 0 {
      let following = Int(loop.tunToUDP.runs.next[id])
      loop.tun.buffers.recycle(id)
      packets &+= 1
      id = following
    }
    if countingDrops { bank.add(.dropSendError, UInt64(packets)) }
    return packets
  }

  /// Asks `offloadState` what a failed offloaded operation means and carries out any offload
  /// it turned off.
  @discardableResult
  func offloadFailed(_ operation: OffloadState.Operation, errno: Int32) -> OffloadState.Action {
    let decision = offloadState.failed(operation, errno: errno)
    if !decision.turnedOff.isEmpty {
      offloadsTurnedOff(decision, after: operation, errno: errno)
    }
    return decision.action
  }
}
