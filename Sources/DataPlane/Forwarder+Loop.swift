import CLibURing
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What an SQE was for, kept in the top byte of its user_data; the low bits are the buffer id.
enum Operation: UInt64 {
  case tunRead = 1
  case udpSend = 2
  case icmpWrite = 3
  case udpReceive = 4
  case tunWrite = 5
  case wake = 6
  case cancel = 7
  /// A chunk of a split super-packet; the id is its send-header slot.
  case splitSend = 8
  /// A TUN write of coalesced packets (a super-packet); the id is the udp buffer's.
  case tunWriteCoalesced = 9

  @inline(__always)
  func userData(_ id: Int) -> UInt64 { rawValue << 56 | UInt64(truncatingIfNeeded: id) }
}

/// The memory the loop hands to the kernel, created on the forwarder thread (the buffer rings
/// are registered with its ring): the two provided-buffer rings and the msghdrs.
final class LoopBuffers {
  static let tunGroup: UInt16 = 0
  static let udpGroup: UInt16 = 1
  /// Room for the largest IPv4 packet (a TSO super-packet later).
  static let packetSize = 65536
  /// Behind each TUN buffer: where the ICMP reply to that buffer's packet is built.
  static let scratchSize = 128

  let tun: BufferRing
  let udp: BufferRing
  let headers: MessageHeaders
  let runs: SegmentRuns
  /// Per udp buffer id: TUN writes from it still in flight (a GRO train is several packets).
  let pendingWrites: UnsafeMutablePointer<Int32>
  /// With a virtio header on the TUN: per udp buffer, `vectorsPerBuffer` iovecs for the
  /// WRITEVs of its packets (the packets of a GRO train are back to back, so the header cannot
  /// go in front of each in place): [zero header, packet] for a plain one, [header slot,
  /// first packet, payload 2, …, payload n] for coalesced ones.
  let writeVectors: UnsafeMutablePointer<iovec>?
  static let writesPerBuffer = 64
  static let vectorsPerBuffer = 2 * writesPerBuffer
  let zeroHeader: UnsafeMutableRawPointer
  /// Per udp buffer, `writesPerBuffer` slots of `headerSlotSize` bytes: the virtio headers
  /// of its coalesced writes.
  let headerSlots: UnsafeMutableRawPointer?
  static let headerSlotSize = 16
  /// With TSO/USO: per TUN buffer, where the headers of its split super-packet go and the
  /// iovecs gathering them with the payloads (left in the buffer), and the sends of that
  /// split still in flight (≤ 2 chunks of ≤ 64 segments, header slots `count + 2·id + c`).
  let splitAreas: UnsafeMutableRawPointer?
  static let splitAreaSize = SuperPacket.maxSegments * SuperPacket.maxHeaderLength
  let splitVectors: UnsafeMutablePointer<iovec>?
  static let splitVectorCount = 2 * SuperPacket.maxSegments
  let pendingSends: UnsafeMutablePointer<Int32>
  /// Per split slot: the segments of its chunk (for counting).
  let chunkSegments: UnsafeMutablePointer<Int32>
  /// Where the run being built goes.
  var runDestination = sockaddr_in()

  init(
    ring: Ring, configuration: ForwarderConfiguration, virtioHeaderSize: Int, splitting: Bool
  ) throws(DataPlaneError) {
    tun = try BufferRing(
      ring: ring, group: Self.tunGroup, count: configuration.tunBufferCount,
      bufferSize: Self.packetSize + virtioHeaderSize, scratchSize: Self.scratchSize)
    udp = try BufferRing(
      ring: ring, group: Self.udpGroup, count: configuration.udpBufferCount,
      bufferSize: ReceivedDatagram.payloadOffset + Self.packetSize)
    let tunCount = configuration.tunBufferCount
    headers = MessageHeaders(count: splitting ? 3 * tunCount : tunCount)
    runs = SegmentRuns(capacity: configuration.tunBufferCount)
    pendingWrites = .allocate(capacity: configuration.udpBufferCount)
    pendingWrites.initialize(repeating: 0, count: configuration.udpBufferCount)
    zeroHeader = .allocate(byteCount: 16, alignment: 8)
    zeroHeader.initializeMemory(as: UInt8.self, repeating: 0, count: 16)
    if virtioHeaderSize > 0 {
      let n = configuration.udpBufferCount * Self.vectorsPerBuffer
      let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: n)
      vectors.initialize(
        repeating: iovec(iov_base: zeroHeader, iov_len: virtioHeaderSize), count: n)
      writeVectors = vectors
      let slots = configuration.udpBufferCount * Self.writesPerBuffer * Self.headerSlotSize
      headerSlots = .allocate(byteCount: slots, alignment: 16)
      headerSlots?.initializeMemory(as: UInt8.self, repeating: 0, count: slots)
    } else {
      writeVectors = nil
      headerSlots = nil
    }
    splitAreas =
      splitting ? .allocate(byteCount: tunCount * Self.splitAreaSize, alignment: 64) : nil
    splitVectors = splitting ? .allocate(capacity: tunCount * Self.splitVectorCount) : nil
    pendingSends = .allocate(capacity: tunCount)
    pendingSends.initialize(repeating: 0, count: tunCount)
    chunkSegments = .allocate(capacity: 2 * tunCount)
    chunkSegments.initialize(repeating: 0, count: 2 * tunCount)
  }

  deinit {
    pendingWrites.deallocate()
    zeroHeader.deallocate()
    writeVectors?.deallocate()
    headerSlots?.deallocate()
    splitAreas?.deallocate()
    splitVectors?.deallocate()
    pendingSends.deallocate()
    chunkSegments.deallocate()
  }
}

/// The hot loop. Everything here runs on the forwarder thread only.
///
/// The TUN, the sockets and the wake eventfd are registered files (IOSQE_FIXED_FILE: no file
/// lookup and reference count per request), unregistered when the loop ends so that a
/// reconfiguration can bind the port again at once. After a SIGKILL the ring's teardown (and
/// with it the file table and the in-flight multishot requests, which hold the socket too)
/// runs asynchronously after the process exits: the next daemon waits for the port
/// (UDPWorkers.waitUntilFree).
///
/// The TUN is read by one multishot READ and the socket by one multishot RECVMSG, both
/// filling provided buffers: one poll waiter per descriptor. (Several posted one-shot reads
/// on one descriptor are all woken per packet; a read that loses that race 128 times in a row
/// is punted by the kernel to an `iou-wrk` thread, where the non-blocking read fails with
/// EAGAIN — the iou-wrk threads and EAGAIN completions seen before.)
///
/// Per iteration: hand recycled buffers back, re-arm ended multishots, one io_uring_enter
/// (submit what the previous batch produced, run the deferred task work — which drains the TUN
/// and the socket into buffers — and wait for ≥ 1 completion), pick up the newest route
/// snapshot, handle every completion, publish counters. Per packet: no allocation, no throw,
/// no lock, no retain/release (the snapshot is retained once per batch).
extension Forwarder {
  static let cqeBatch: UInt32 = 256

  func run(ready: DispatchSemaphore) {
    guard let ring else { return }
    let buffers: LoopBuffers
    do {
      try ring.enable()
      fixedFiles = ring.registerFilesAtTheirNumbers([tunFD, socketFD, sendFD, wakeFD])
      buffers = try LoopBuffers(
        ring: ring, configuration: configuration, virtioHeaderSize: virtioHeaderSize,
        splitting: offloadState.splitsSuperPackets)
    } catch {
      recordFailure(error)
      ready.signal()
      return
    }
    self.buffers = buffers
    recordReceiveOffload(configuration.udpReceiveOffload && socket.enableReceiveOffload())
    multishotRead =
      configuration.multishotTunRead
      && ring.supports(opcode: Int32(flannel_IORING_OP_READ_MULTISHOT))
    let cqes = UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>.allocate(
      capacity: Int(Self.cqeBatch))
    defer { cqes.deallocate() }
    featuresBox.withLock {
      $0 = [
        ring.singleIssuer ? "single issuer + deferred task work" : nil,
        multishotRead ? "multishot TUN read" : nil,
        fixedFiles ? Self.fixedFilesFeature : nil,
      ].compactMap { $0 }
    }
    postWake(ring, buffers)
    arm(ring, buffers)
    ready.signal()

    var routes = self.routes.snapshot(self.routes.acquire(cached: 0))
    cachedRoutes = UInt(bitPattern: Unmanaged.passUnretained(routes).toOpaque())
    while !stopRequested.load(ordering: .relaxed) {
      let submitted = ring.submitAndWait(1)
      bank.add(.submissions)
      if submitted < 0 {
        if submitted == -EINTR || submitted == -EAGAIN || submitted == -EBUSY { continue }
        recordFailure(DataPlaneError("io_uring_submit_and_wait", errno: -submitted))
        break
      }
      bank.add(.sqesSubmitted, UInt64(submitted))
      let latest = self.routes.acquire(cached: cachedRoutes)
      if latest != cachedRoutes {
        cachedRoutes = latest
        routes = self.routes.snapshot(latest)
      }
      var handled = 0
      while true {
        let ready = ring.peek(cqes, capacity: Self.cqeBatch)
        if ready == 0 { break }
        for i in 0..<ready {
          let cqe = cqes[i]!
          complete(cqe.pointee.user_data, cqe.pointee.res, cqe.pointee.flags, ring, buffers, routes)
        }
        ring.advance(ready)
        handled &+= ready
      }
      sendRun(ring, buffers)
      if handled > 0 {
        bank.add(.completions, UInt64(handled))
        bank.add(.batches)
      }
      arm(ring, buffers)
      bank.publish()
    }
    drain(ring, buffers, cqes)
    if fixedFiles {
      ring.unregisterFiles()
      fixedFiles = false
    }
    // Nothing is in flight any more: unregister and free the buffer rings now.
    self.buffers = nil
    bank.publish()
  }

  @inline(__always)
  private func complete(
    _ userData: UInt64, _ result: Int32, _ flags: UInt32, _ ring: Ring, _ buffers: LoopBuffers,
    _ routes: RouteSnapshot
  ) {
    let id = Int(truncatingIfNeeded: userData & 0x00ff_ffff_ffff_ffff)
    let more = flags & IORING_CQE_F_MORE != 0
    switch Operation(rawValue: userData >> 56) {
    case .tunRead:
      if !more { tunReadEnded() }
      if let id = buffers.tun.take(flags: flags) {
        tunPacketRead(id, result, ring, buffers, routes)
      } else {
        countReadFailure(result)
      }
    case .udpSend:
      inFlight &-= 1
      sendCompleted(id, result, ring, buffers)
    case .icmpWrite:
      inFlight &-= 1
      bank.add(result < 0 ? .dropTunWriteError : .icmpSent)
      buffers.tun.recycle(id)
    case .udpReceive:
      if !more {
        inFlight &-= 1
        receiveArmed = false
      }
      if let id = buffers.udp.take(flags: flags) {
        datagramReceived(id, result, ring, buffers, routes)
      } else {
        countReadFailure(result)
      }
    case .tunWrite, .tunWriteCoalesced:
      inFlight &-= 1
      if result < 0 {
        bank.add(.dropTunWriteError)
        if userData >> 56 == Operation.tunWriteCoalesced.rawValue {
          offloadFailed(.coalescedWrite, errno: -result)
        }
      } else {
        bank.add(.tunPacketsWritten)
        bank.add(.tunBytesWritten, UInt64(max(Int(result) &- virtioHeaderSize, 0)))
      }
      buffers.pendingWrites[id] &-= 1
      if buffers.pendingWrites[id] == 0 { buffers.udp.recycle(id) }
    case .wake:
      inFlight &-= 1
      // Only stop() writes the eventfd; re-arm in case the loop is not stopping after all.
      if !stopRequested.load(ordering: .relaxed) { postWake(ring, buffers) }
    case .cancel:
      inFlight &-= 1
    case .splitSend:
      inFlight &-= 1
      splitSendCompleted(id, result, buffers)
    case .none:
      break
    }
  }

  @inline(__always)
  private func tunReadEnded() {
    inFlight &-= 1
    if multishotRead { tunReadArmed = false } else { postedTunReads &-= 1 }
  }

  /// tun → udp: check, route, TTL, send from the same buffer.
  @inline(__always)
  private func tunPacketRead(
    _ id: Int, _ result: Int32, _ ring: Ring, _ buffers: LoopBuffers, _ routes: RouteSnapshot
  ) {
    guard result > 0 else {
      countReadFailure(result)
      buffers.tun.recycle(id)
      return
    }
    let length = Int(result) &- virtioHeaderSize
    bank.add(.tunPacketsRead)
    bank.add(.tunBytesRead, UInt64(max(length, 0)))
    let packet = buffers.tun.buffer(id) + virtioHeaderSize
    var virtio = VirtioNetHeader()
    if virtioHeaderSize > 0 {
      virtio = VirtioNetHeader(UnsafeRawPointer(buffers.tun.buffer(id)))
      if virtio.gsoType == VirtioNetHeader.gsoNone
        && virtio.flags & VirtioNetHeader.needsChecksum != 0
        && !SuperPacket.completeChecksum(virtio, packet: packet, length: length)
      {
        bank.add(.dropBadHeader)
        buffers.tun.recycle(id)
        return
      }
    }
    let verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    guard verdict == .forward else {
      bank.add(Counter.drop(for: verdict))
      buffers.tun.recycle(id)
      return
    }
    guard let nextHop = routes.nextHop(for: IPv4Packet.destination(UnsafeRawPointer(packet)))
    else {
      bank.add(.dropNoRoute)
      let scratch = buffers.tun.scratch(id)
      if virtioHeaderSize > 0 { VirtioNetHeader.storePlain(scratch) }
      let reply = NetUnreachable.build(
        offender: UnsafeRawPointer(packet), length: length,
        tunAddress: configuration.tunAddress, into: scratch + virtioHeaderSize,
        capacity: LoopBuffers.scratchSize - virtioHeaderSize)
      if reply > 0, let sqe = sqe(ring) {
        io_uring_prep_write(sqe, tunFD, scratch, UInt32(reply &+ virtioHeaderSize), 0)
        finish(sqe, .icmpWrite, id)
      } else {
        buffers.tun.recycle(id)
      }
      return
    }
    guard IPv4Packet.decrementTTL(packet) == .forward else {
      bank.add(.dropTTL)
      buffers.tun.recycle(id)
      return
    }
    if virtio.gsoType != VirtioNetHeader.gsoNone {
      superPacketRead(id, virtio, packet, length, nextHop.pointee, ring, buffers)
      return
    }
    let destination =
      UInt64(nextHop.pointee.sin_addr.s_addr) << 16 | UInt64(nextHop.pointee.sin_port)
    if !buffers.runs.append(id, length: length, destination: destination) {
      sendRun(ring, buffers)
      buffers.runs.start(
        id, length: length, destination: destination,
        mayGrow: offloadState.runMayGrow(segmentSize: length))
      buffers.runDestination = nextHop.pointee
    }
  }

  /// Sends the run being built (if any) with one SENDMSG: UDP GSO when it holds several
  /// packets.
  @inline(__always)
  func sendRun(_ ring: Ring, _ buffers: LoopBuffers) {
    guard let run = buffers.runs.take() else { return }
    guard let sqe = sqe(ring) else {
      releaseRun(run.head, buffers, countingDrops: true)
      return
    }
    let header = buffers.headers.prepareSend(
      head: run.head, count: run.count, segmentSize: run.segmentSize, runs: buffers.runs,
      ring: buffers.tun, packetOffset: virtioHeaderSize, to: buffers.runDestination)
    io_uring_prep_sendmsg(sqe, sendFD, header, 0)
    finish(sqe, .udpSend, run.head)
    bank.add(.udpSends)
  }

  /// A send of the run headed by `head` completed: count it, recycle its buffers. A failed
  /// one goes to `OffloadState`, which may have each packet sent again on its own.
  @inline(__always)
  private func sendCompleted(_ head: Int, _ result: Int32, _ ring: Ring, _ buffers: LoopBuffers) {
    guard result >= 0 else {
      sendFailed(head, errno: -result, ring, buffers)
      return
    }
    let packets = releaseRun(head, buffers, countingDrops: false)
    bank.add(.udpPacketsSent, UInt64(packets))
    bank.add(.udpBytesSent, UInt64(result))
  }

  /// A refused UDP GSO send of a run: its packets go again, each in a send of its own (a plain
  /// send fragments what is above the path MTU, as it always did); any other failure drops
  /// them.
  @inline(never)
  private func sendFailed(_ head: Int, errno: Int32, _ ring: Ring, _ buffers: LoopBuffers) {
    var segments = 0
    var id = head
    while id >= 0 {
      segments &+= 1
      id = Int(buffers.runs.next[id])
    }
    let operation = OffloadState.Operation.runSend(
      segments: segments, segmentSize: Int(buffers.runs.lengths[head]))
    guard offloadFailed(operation, errno: errno) == .resendEachPacket else {
      releaseRun(head, buffers, countingDrops: true)
      return
    }
    sendRun(ring, buffers)  // the run being built, before its bookkeeping is reused
    let destination = buffers.headers.destinations[head]
    id = head
    while id >= 0 {
      let following = Int(buffers.runs.next[id])
      buffers.runs.start(
        id, length: Int(buffers.runs.lengths[id]), destination: 0, mayGrow: false)
      buffers.runDestination = destination
      sendRun(ring, buffers)
      id = following
    }
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

  /// Recycles every buffer of the run headed by `head`; returns how many there were.
  @inline(__always)
  @discardableResult
  private func releaseRun(_ head: Int, _ buffers: LoopBuffers, countingDrops: Bool) -> Int {
    var packets = 0
    var id = head
    while id >= 0 {
      let following = Int(buffers.runs.next[id])
      buffers.tun.recycle(id)
      packets &+= 1
      id = following
    }
    if countingDrops { bank.add(.dropSendError, UInt64(packets)) }
    return packets
  }

  /// udp → tun: size, sender, then per packet (a UDP GRO train holds several of equal size)
  /// check, TTL and a write from the same buffer. The buffer goes back when the last write
  /// completes.
  @inline(__always)
  private func datagramReceived(
    _ id: Int, _ result: Int32, _ ring: Ring, _ buffers: LoopBuffers, _ routes: RouteSnapshot
  ) {
    guard result >= 0 else {
      countReadFailure(result)
      buffers.udp.recycle(id)
      return
    }
    let buffer = buffers.udp.buffer(id)
    let total = ReceivedDatagram.payloadLength(UnsafeRawPointer(buffer))
    let segment = ReceivedDatagram.segmentSize(UnsafeRawPointer(buffer)) ?? max(total, 1)
    let packets = total == 0 ? 1 : (total &+ segment &- 1) / segment
    bank.add(.udpReceives)
    bank.add(.udpPacketsReceived, UInt64(packets))
    bank.add(.udpBytesReceived, UInt64(total))
    // Posted with MSG_TRUNC: payloadlen is the real length even when it did not fit.
    guard segment <= configuration.maxDatagramSize,
      ReceivedDatagram.flags(UnsafeRawPointer(buffer)) & Int32(MSG_TRUNC) == 0
    else {
      bank.add(.dropTruncated, UInt64(packets))
      buffers.udp.recycle(id)
      return
    }
    if !configuration.acceptAnySource {
      let from = ReceivedDatagram.source(UnsafeRawPointer(buffer))
      guard routes.isKnownSource(address: from.address) else {
        bank.add(.dropUnknownSource, UInt64(packets))
        buffers.udp.recycle(id)
        return
      }
    }
    guard let vectors = buffers.writeVectors else {
      writePlain(id, buffer, total: total, segment: segment, ring, buffers)
      return
    }
    var train = TrainWrites(
      vectors: vectors + id &* LoopBuffers.vectorsPerBuffer,
      headerSlots: buffers.headerSlots! + id &* LoopBuffers.writesPerBuffer
        &* LoopBuffers.headerSlotSize)
    let coalescing = offloadState.coalescesTCP
    let coalescingUDP = offloadState.coalescesUDP
    var offset = 0
    repeat {
      let (packet, length, verdict) = Self.trainPacket(
        buffer, total: total, segment: segment, offset: &offset)
      guard verdict == .forward else {
        bank.add(Counter.drop(for: verdict))
        continue
      }
      if coalescing,
        let candidate = MergeCandidate(
          UnsafeRawPointer(packet), length: length, udp: coalescingUDP)
      {
        if train.used < LoopBuffers.vectorsPerBuffer,
          train.append(UnsafeRawPointer(packet), candidate)
        {
          train.vectors[train.used] = iovec(
            iov_base: packet + candidate.headerLength,
            iov_len: length &- candidate.headerLength)
          train.used &+= 1
          continue
        }
        flushCoalesced(id, &train, ring)
        guard train.writes < LoopBuffers.writesPerBuffer,
          train.used &+ 2 <= LoopBuffers.vectorsPerBuffer
        else {
          bank.add(.dropTunWriteError)
          continue
        }
        // [header slot, first packet]; finish() fills the slot.
        train.first = train.used
        train.vectors[train.used] = iovec(
          iov_base: train.headerSlots + Int(train.writes) &* LoopBuffers.headerSlotSize,
          iov_len: virtioHeaderSize)
        train.vectors[train.used &+ 1] = iovec(iov_base: packet, iov_len: length)
        train.used &+= 2
        train.start(packet, candidate)
        continue
      }
      flushCoalesced(id, &train, ring)
      guard train.writes < LoopBuffers.writesPerBuffer,
        train.used &+ 2 <= LoopBuffers.vectorsPerBuffer, let sqe = sqe(ring)
      else {
        bank.add(.dropTunWriteError)
        continue
      }
      // [zero virtio header, packet]: a plain packet with complete checksums.
      let pair = train.vectors + train.used
      pair[0] = iovec(iov_base: buffers.zeroHeader, iov_len: virtioHeaderSize)
      pair[1] = iovec(iov_base: packet, iov_len: length)
      train.used &+= 2
      io_uring_prep_writev(sqe, tunFD, pair, 2, 0)
      finish(sqe, .tunWrite, id)
      train.writes &+= 1
    } while offset < total
    flushCoalesced(id, &train, ring)
    if train.writes == 0 {
      buffers.udp.recycle(id)
    } else {
      buffers.pendingWrites[id] = train.writes
    }
  }

  /// Ends the super-packet being built in `train` (if any) and posts its WRITEV: one
  /// segment goes as a plain packet, several as one TSO or USO super-packet.
  @inline(__always)
  private func flushCoalesced(_ id: Int, _ train: inout TrainWrites, _ ring: Ring) {
    guard train.building else { return }
    let slot = train.vectors[train.first].iov_base!
    let (segments, udp) = train.finish(virtioHeader: slot)
    guard let sqe = sqe(ring) else {
      bank.add(.dropTunWriteError)
      return
    }
    let count = train.used &- train.first
    io_uring_prep_writev(sqe, tunFD, train.vectors + train.first, UInt32(count), 0)
    if segments > 1 {
      finish(sqe, .tunWriteCoalesced, id)
      bank.add(udp ? .tunCoalescedUDPWrites : .tunCoalescedWrites)
      bank.add(udp ? .tunCoalescedUDPPackets : .tunCoalescedPackets, UInt64(segments))
    } else {
      finish(sqe, .tunWrite, id)
    }
    train.writes &+= 1
  }

  /// udp → tun without a virtio header: one WRITE per packet of the train.
  @inline(__always)
  private func writePlain(
    _ id: Int, _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int, _ ring: Ring,
    _ buffers: LoopBuffers
  ) {
    var writes: Int32 = 0
    var offset = 0
    repeat {
      let (packet, length, verdict) = Self.trainPacket(
        buffer, total: total, segment: segment, offset: &offset)
      guard verdict == .forward, let sqe = sqe(ring) else {
        bank.add(Counter.drop(for: verdict))
        continue
      }
      io_uring_prep_write(sqe, tunFD, packet, UInt32(length), 0)
      finish(sqe, .tunWrite, id)
      writes &+= 1
    } while offset < total
    if writes == 0 {
      buffers.udp.recycle(id)
    } else {
      buffers.pendingWrites[id] = writes
    }
  }

  /// The packet of a received train at `offset` (which moves to the next one), checked and,
  /// when it may be forwarded, with its TTL decremented.
  @inline(__always)
  private static func trainPacket(
    _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int, offset: inout Int
  ) -> (UnsafeMutableRawPointer, Int, PacketVerdict) {
    let length = min(segment, total &- offset)
    let packet = buffer + (ReceivedDatagram.payloadOffset &+ offset)
    offset &+= segment
    var verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    if verdict == .forward { verdict = IPv4Packet.decrementTTL(packet) }
    return (packet, length, verdict)
  }

  @inline(__always)
  private func countReadFailure(_ result: Int32) {
    if result == -ENOBUFS {
      bank.add(.bufferShortages)
    } else if result == -EAGAIN {
      bank.add(.readRetries)
    } else if result < 0 && result != -ECANCELED {
      bank.add(.readErrors)
    }
  }

  /// A submission entry; when the queue is full (it should not be, see `start()`), submits
  /// what is queued first.
  @inline(__always)
  func sqe(_ ring: Ring) -> UnsafeMutablePointer<io_uring_sqe>? {
    if let sqe = ring.sqe() { return sqe }
    let submitted = ring.submit()
    bank.add(.submissions)
    if submitted > 0 { bank.add(.sqesSubmitted, UInt64(submitted)) }
    return ring.sqe()
  }

  @inline(__always)
  func finish(_ sqe: UnsafeMutablePointer<io_uring_sqe>, _ op: Operation, _ id: Int) {
    io_uring_sqe_set_data64(sqe, op.userData(id))
    // Every request that comes here names one of the registered descriptors (the cancel in
    // drain() names none and does not).
    if fixedFiles { sqe.pointee.flags |= UInt8(truncatingIfNeeded: 1 << IOSQE_FIXED_FILE_BIT) }
    inFlight &+= 1
  }

  /// Hands recycled buffers to the kernel and re-arms whatever ended: the multishot READ (or
  /// the one-shot READs) on the TUN and the multishot RECVMSG on the socket. A request that
  /// ended for lack of buffers is re-armed only once some are back.
  @inline(__always)
  private func arm(_ ring: Ring, _ buffers: LoopBuffers) {
    buffers.tun.publish()
    buffers.udp.publish()
    if stopRequested.load(ordering: .relaxed) { return }
    if multishotRead {
      if !tunReadArmed && buffers.tun.available > 0, let sqe = sqe(ring) {
        flannel_prep_read_multishot(sqe, tunFD, LoopBuffers.tunGroup)
        finish(sqe, .tunRead, 0)
        tunReadArmed = true
      }
    } else {
      while postedTunReads < configuration.tunReadDepth && postedTunReads < buffers.tun.available,
        let sqe = sqe(ring)
      {
        flannel_prep_read_select(
          sqe, tunFD, UInt32(LoopBuffers.packetSize &+ virtioHeaderSize), LoopBuffers.tunGroup)
        finish(sqe, .tunRead, 0)
        postedTunReads &+= 1
      }
    }
    if !receiveArmed && buffers.udp.available > 0, let sqe = sqe(ring) {
      flannel_prep_recvmsg_multishot(
        sqe, socketFD, buffers.headers.receive, UInt32(MSG_TRUNC), LoopBuffers.udpGroup)
      finish(sqe, .udpReceive, 0)
      receiveArmed = true
    }
  }

  private func postWake(_ ring: Ring, _ buffers: LoopBuffers) {
    guard let sqe = sqe(ring) else { return }
    io_uring_prep_read(sqe, wakeFD, buffers.headers.wakeBuffer, 8, 0)
    finish(sqe, .wake, 0)
  }

  /// Cancels every posted operation and waits for all final completions, so that no kernel
  /// write into the buffers can happen after they are freed. Packets still arriving are
  /// dropped (their buffers go straight back).
  private func drain(
    _ ring: Ring, _ buffers: LoopBuffers,
    _ cqes: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
  ) {
    if let sqe = sqe(ring) {
      io_uring_prep_cancel64(sqe, 0, Int32(IORING_ASYNC_CANCEL_ANY))
      io_uring_sqe_set_data64(sqe, Operation.cancel.userData(0))
      inFlight &+= 1
    }
    let noRoutes = RouteSnapshot.empty
    while inFlight > 0 {
      let submitted = ring.submitAndWait(1)
      if submitted < 0 && submitted != -EINTR && submitted != -EAGAIN { break }
      while true {
        let ready = ring.peek(cqes, capacity: Self.cqeBatch)
        if ready == 0 { break }
        for i in 0..<ready {
          let cqe = cqes[i]!
          let userData = cqe.pointee.user_data
          let flags = cqe.pointee.flags
          let more = flags & IORING_CQE_F_MORE != 0
          // Finish completions without producing new work.
          switch Operation(rawValue: userData >> 56) {
          case .tunRead:
            if !more { tunReadEnded() }
            if let id = buffers.tun.take(flags: flags) { buffers.tun.recycle(id) }
          case .udpReceive:
            if !more {
              inFlight &-= 1
              receiveArmed = false
            }
            if let id = buffers.udp.take(flags: flags) { buffers.udp.recycle(id) }
          default:
            complete(userData, cqe.pointee.res, flags, ring, buffers, noRoutes)
          }
        }
        ring.advance(ready)
      }
      // Buffers are handed back (nothing is re-armed) so that a multishot request still
      // running does not end on -ENOBUFS before the cancel reaches it.
      buffers.tun.publish()
      buffers.udp.publish()
    }
  }
}
