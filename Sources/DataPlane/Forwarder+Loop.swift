import CLibURing
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What an SQE was for, kept in the top byte of its user_data; the low bits are the slot.
enum Operation: UInt64 {
  case tunRead = 1
  case udpSend = 2
  case icmpWrite = 3
  case udpReceive = 4
  case tunWrite = 5
  case wake = 6
  case cancel = 7

  @inline(__always)
  func userData(_ slot: Int) -> UInt64 { rawValue << 56 | UInt64(truncatingIfNeeded: slot) }
}

/// The hot loop. Everything here runs on the forwarder thread only. Per iteration: one
/// io_uring_enter (submit what the previous batch produced, wait for ≥ 1 completion), pick up
/// the newest route snapshot, handle every ready completion, re-post reads, publish counters.
/// Per packet: no allocation, no throw, no lock, no retain/release (the snapshot is retained
/// once per batch).
extension Forwarder {
  static let cqeBatch: UInt32 = 256

  func run(ready: DispatchSemaphore) {
    guard let ring, let slab else { return }
    do {
      try ring.enable()
    } catch {
      recordFailure(error)
      ready.signal()
      return
    }
    let cqes = UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>.allocate(
      capacity: Int(Self.cqeBatch))
    defer { cqes.deallocate() }
    postWake(ring, slab)
    topUp(ring, slab)
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
          complete(cqe.pointee.user_data, cqe.pointee.res, ring, slab, routes)
        }
        ring.advance(ready)
        handled &+= ready
      }
      if handled > 0 {
        bank.add(.completions, UInt64(handled))
        bank.add(.batches)
      }
      topUp(ring, slab)
      bank.publish()
    }
    drain(ring, slab, cqes)
    bank.publish()
  }

  @inline(__always)
  private func complete(
    _ userData: UInt64, _ result: Int32, _ ring: Ring, _ slab: PacketSlab,
    _ routes: RouteSnapshot
  ) {
    inFlight &-= 1
    let slot = Int(truncatingIfNeeded: userData & 0x00ff_ffff_ffff_ffff)
    switch Operation(rawValue: userData >> 56) {
    case .tunRead:
      postedTunReads &-= 1
      tunPacketRead(slot, result, ring, slab, routes)
    case .udpSend:
      if result < 0 {
        bank.add(.dropSendError)
      } else {
        bank.add(.udpPacketsSent)
        bank.add(.udpBytesSent, UInt64(result))
      }
      slab.releaseTun(slot)
    case .icmpWrite:
      bank.add(result < 0 ? .dropTunWriteError : .icmpSent)
      slab.releaseTun(slot)
    case .udpReceive:
      postedReceives &-= 1
      datagramReceived(slot, result, ring, slab, routes)
    case .tunWrite:
      if result < 0 {
        bank.add(.dropTunWriteError)
      } else {
        bank.add(.tunPacketsWritten)
        bank.add(.tunBytesWritten, UInt64(result))
      }
      slab.releaseUDP(slot)
    case .wake:
      // Only stop() writes the eventfd; re-arm in case the loop is not stopping after all.
      if !stopRequested.load(ordering: .relaxed) { postWake(ring, slab) }
    case .cancel, .none:
      break
    }
  }

  /// tun → udp: check, route, TTL, send from the same buffer.
  @inline(__always)
  private func tunPacketRead(
    _ slot: Int, _ result: Int32, _ ring: Ring, _ slab: PacketSlab, _ routes: RouteSnapshot
  ) {
    guard result > 0 else {
      countReadFailure(result)
      slab.releaseTun(slot)
      return
    }
    let length = Int(result)
    bank.add(.tunPacketsRead)
    bank.add(.tunBytesRead, UInt64(length))
    let packet = slab.buffer(slot)
    let verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    guard verdict == .forward else {
      bank.add(Counter.drop(for: verdict))
      slab.releaseTun(slot)
      return
    }
    guard let nextHop = routes.nextHop(for: IPv4Packet.destination(UnsafeRawPointer(packet)))
    else {
      bank.add(.dropNoRoute)
      let reply = NetUnreachable.build(
        offender: UnsafeRawPointer(packet), length: length,
        tunAddress: configuration.tunAddress, into: slab.scratch(slot),
        capacity: PacketSlab.scratchSize)
      if reply > 0, let sqe = ring.sqe() {
        io_uring_prep_write(sqe, tunFD, slab.scratch(slot), UInt32(reply), 0)
        io_uring_sqe_set_data64(sqe, Operation.icmpWrite.userData(slot))
        inFlight &+= 1
      } else {
        slab.releaseTun(slot)
      }
      return
    }
    guard IPv4Packet.decrementTTL(packet) == .forward else {
      bank.add(.dropTTL)
      slab.releaseTun(slot)
      return
    }
    guard let sqe = ring.sqe() else {
      bank.add(.dropSendError)
      slab.releaseTun(slot)
      return
    }
    // Copy the destination into the slot: the SQE must not point into a snapshot that the
    // control plane may retire before the kernel reads it.
    slab.addresses[slot] = nextHop.pointee
    slab.headers[slot].msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
    slab.vectors[slot].iov_len = length
    io_uring_prep_sendmsg(sqe, socketFD, slab.headers + slot, 0)
    io_uring_sqe_set_data64(sqe, Operation.udpSend.userData(slot))
    inFlight &+= 1
  }

  /// udp → tun: size, sender, check, TTL, write from the same buffer.
  @inline(__always)
  private func datagramReceived(
    _ slot: Int, _ result: Int32, _ ring: Ring, _ slab: PacketSlab, _ routes: RouteSnapshot
  ) {
    guard result >= 0 else {
      countReadFailure(result)
      slab.releaseUDP(slot)
      return
    }
    let length = Int(result)
    bank.add(.udpPacketsReceived)
    bank.add(.udpBytesReceived, UInt64(length))
    // Posted with MSG_TRUNC: the result is the datagram's real length even when longer than
    // the buffer.
    guard length <= slab.vectors[slot].iov_len else {
      bank.add(.dropTruncated)
      slab.releaseUDP(slot)
      return
    }
    if !configuration.acceptAnySource {
      let from = slab.addresses[slot]
      guard
        routes.isKnownSource(
          address: UInt32(bigEndian: from.sin_addr.s_addr), port: UInt16(bigEndian: from.sin_port))
      else {
        bank.add(.dropUnknownSource)
        slab.releaseUDP(slot)
        return
      }
    }
    let packet = slab.buffer(slot)
    var verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    if verdict == .forward { verdict = IPv4Packet.decrementTTL(packet) }
    guard verdict == .forward, let sqe = ring.sqe() else {
      bank.add(Counter.drop(for: verdict))
      slab.releaseUDP(slot)
      return
    }
    io_uring_prep_write(sqe, tunFD, packet, UInt32(length), 0)
    io_uring_sqe_set_data64(sqe, Operation.tunWrite.userData(slot))
    inFlight &+= 1
  }

  @inline(__always)
  private func countReadFailure(_ result: Int32) {
    if result == -EAGAIN {
      bank.add(.readRetries)
    } else if result != -ECANCELED {
      bank.add(.readErrors)
    }
  }

  /// Keeps `tunReadDepth` READs and `udpReceiveDepth` RECVMSGs posted while buffers are free.
  @inline(__always)
  private func topUp(_ ring: Ring, _ slab: PacketSlab) {
    if stopRequested.load(ordering: .relaxed) { return }
    while postedTunReads < configuration.tunReadDepth, let slot = slab.takeTun() {
      guard let sqe = ring.sqe() else {
        slab.releaseTun(slot)
        break
      }
      io_uring_prep_read(sqe, tunFD, slab.buffer(slot), UInt32(PacketSlab.bufferSize), 0)
      io_uring_sqe_set_data64(sqe, Operation.tunRead.userData(slot))
      postedTunReads &+= 1
      inFlight &+= 1
    }
    let limit = min(configuration.maxDatagramSize, PacketSlab.bufferSize)
    while postedReceives < configuration.udpReceiveDepth, let slot = slab.takeUDP() {
      guard let sqe = ring.sqe() else {
        slab.releaseUDP(slot)
        break
      }
      slab.headers[slot].msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
      slab.vectors[slot].iov_len = limit
      io_uring_prep_recvmsg(sqe, socketFD, slab.headers + slot, UInt32(MSG_TRUNC))
      io_uring_sqe_set_data64(sqe, Operation.udpReceive.userData(slot))
      postedReceives &+= 1
      inFlight &+= 1
    }
  }

  private func postWake(_ ring: Ring, _ slab: PacketSlab) {
    guard let sqe = ring.sqe() else { return }
    io_uring_prep_read(sqe, wakeFD, slab.wakeBuffer, 8, 0)
    io_uring_sqe_set_data64(sqe, Operation.wake.userData(0))
    inFlight &+= 1
  }

  /// Cancels every posted operation and waits for all completions, so that no kernel write
  /// into the slab can happen after the slab is freed.
  private func drain(
    _ ring: Ring, _ slab: PacketSlab,
    _ cqes: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
  ) {
    if let sqe = ring.sqe() {
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
          let op = Operation(rawValue: cqe.pointee.user_data >> 56)
          // Finish completions without producing new work.
          if op == .tunRead || op == .udpReceive {
            inFlight &-= 1
            let slot = Int(truncatingIfNeeded: cqe.pointee.user_data & 0xffff_ffff)
            if op == .tunRead {
              postedTunReads &-= 1
              slab.releaseTun(slot)
            } else {
              postedReceives &-= 1
              slab.releaseUDP(slot)
            }
          } else {
            complete(cqe.pointee.user_data, cqe.pointee.res, ring, slab, noRoutes)
          }
        }
        ring.advance(ready)
      }
    }
  }
}
