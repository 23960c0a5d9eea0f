import CLibURing
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The hot loop. Everything here runs on the forwarder thread only.
///
/// The TUN, the sockets and the wake eventfd are registered files (IOSQE_FIXED_FILE: no file
/// lookup and reference count per request), unregistered when the loop ends so that a
/// reconfiguration can bind the port again at once. After a SIGKILL the ring's teardown (and
/// with it the file table and the in-flight multishot requests, which hold the socket too)
/// runs asynchronously after the process exits: the next daemon waits for the port
/// (UDPWorkers.waitUntilFree).
///
/// Per iteration: hand recycled buffers back, re-arm ended multishots, one io_uring_enter
/// (submit what the previous batch produced, run the deferred task work — which drains the TUN
/// and the socket into buffers — and wait for ≥ 1 completion; with a poll window, a submit and
/// polls may come first, each an io_uring_enter of its own), pick up the newest route
/// snapshot, then per completion: its pipeline decides (`TunToUDPPipeline`,
/// `UDPToTunPipeline`: intents, no ring) and `submit` carries the intents out; publish
/// counters. Per packet: no allocation, no throw, no lock, no retain/release (the snapshot is
/// retained once per batch).
extension Forwarder {
  static let cqeBatch: UInt32 = 256

  func run(ready: DispatchSemaphore) {
    guard let ring else { return }
    let loop: LoopParts
    do {
      loop = try makeLoopParts(ring)
    } catch {
      recordFailure(error)
      ready.signal()
      return
    }
    parts = loop
    let cqes = UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>.allocate(
      capacity: Int(Self.cqeBatch))
    defer { cqes.deallocate() }
    postWake(loop)
    arm(loop)
    ready.signal()

    var routes = self.routes.snapshot(self.routes.acquire(cached: 0))
    cachedRoutes = UInt(bitPattern: Unmanaged.passUnretained(routes).toOpaque())
    var window = PollWindow(
      maximumNanoseconds: UInt64(max(configuration.pollMicroseconds, 0)) * 1000)
    var active = false
    while !stopRequested.load(ordering: .relaxed) {
      let submitted = waitForCompletions(ring, &window, afterActiveBatch: active)
      if submitted < 0 {
        if submitted == -EINTR || submitted == -EAGAIN || submitted == -EBUSY { continue }
        recordFailure(DataPlaneError("io_uring_submit_and_wait", errno: -submitted))
        break
      }
      bank.add(.sqesSubmitted, UInt64(submitted))
      if let tunnel = loop.tunnel {
        // The tunnel's snapshot carries its own routes (to its peers' endpoints).
        routes = tunnel.refresh(now: MonotonicClock.nanoseconds())
        if tunnel.hasStagedWork { releaseStaged(loop, routes) }
      } else {
        let latest = self.routes.acquire(cached: cachedRoutes)
        if latest != cachedRoutes {
          cachedRoutes = latest
          routes = self.routes.snapshot(latest)
        }
      }
      let handled = reap(ring, cqes) { complete($0, $1, $2, loop, routes) }
      active = handled > 0
      loop.tunToUDP.flush()
      submit(loop)
      if handled > 0 {
        bank.add(.completions, UInt64(handled))
        bank.add(.batches)
      }
      arm(loop)
      bank.publish()
    }
    drain(ring, loop, cqes)
    if loop.submitter.fixedFiles { ring.unregisterFiles() }
    // Nothing is in flight any more: unregister and free the buffer rings now.
    parts = nil
    bank.publish()
  }

  /// Enables the ring on this thread, registers the descriptors as fixed files, and builds
  /// the queue, the port and the buffers of both directions; records the features in use.
  private func makeLoopParts(_ ring: Ring) throws(DataPlaneError) -> LoopParts {
    try ring.enable()
    let fixedFiles = ring.registerFilesAtTheirNumbers([tunFD, socketFD, sendFD, wakeFD])
    let multishot =
      configuration.multishotTunRead
      && ring.supports(opcode: Int32(flannel_IORING_OP_READ_MULTISHOT))
    let splitting = offloadState.state.splitsSuperPackets
    let tun = try TunQueue(
      ring: ring, fd: tunFD, bufferCount: configuration.tunBufferCount,
      packetSize: LoopParts.packetSize, virtioHeaderSize: virtioHeaderSize,
      multishot: multishot, readDepth: configuration.tunReadDepth,
      headroom: configuration.tunnel == nil ? 0 : TunnelCodec.headroom)
    let udp = try UDPPort(
      ring: ring, fd: socketFD, sendFD: sendFD, bufferCount: configuration.udpBufferCount,
      packetSize: LoopParts.packetSize,
      sendHeaders: TunToUDPBuffers.sendHeaders(
        tunBufferCount: configuration.tunBufferCount, splitting: splitting),
      nameLength: socket.nameLength)
    recordReceiveOffload(
      configuration.udpReceiveOffload && (try? socket.enableReceiveOffload()) != nil)
    featuresBox.withLock {
      $0 = [
        ring.singleIssuer ? "single issuer + deferred task work" : nil,
        multishot ? "multishot TUN read" : nil,
        fixedFiles ? Self.fixedFilesFeature : nil,
      ].compactMap { $0 }
    }
    let intents = LoopIntents()
    let tunnel = configuration.tunnel.map {
      TunnelCodec(
        exchange: tunnelSessions, inbox: $0.inbox, bank: bank, mtu: $0.mtu, worker: $0.worker,
        workers: $0.workers,
        // At most half the TUN buffers wait for handshakes: reads go on with the rest.
        stagingCapacity: max(configuration.tunBufferCount / 2, 1))
    }
    return LoopParts(
      submitter: RingSubmitter(ring: ring, bank: bank, fixedFiles: fixedFiles), tun: tun,
      udp: udp,
      tunToUDP: TunToUDPPipeline(
        tun: tun.buffers.layout,
        state: TunToUDPBuffers(
          tunBufferCount: configuration.tunBufferCount, splitting: splitting,
          sealing: configuration.tunnel != nil),
        headers: udp.headers, offloads: offloadState, bank: bank, intents: intents,
        virtioHeaderSize: virtioHeaderSize, tunAddress: configuration.tunAddress,
        tunIPv6: tunnel == nil ? configuration.tunIPv6Address : nil, tunnel: tunnel),
      udpToTun: UDPToTunPipeline(
        udp: udp.buffers.layout,
        state: UDPToTunBuffers(
          udpBufferCount: configuration.udpBufferCount, virtioHeaderSize: virtioHeaderSize),
        offloads: offloadState, bank: bank, intents: intents, virtioHeaderSize: virtioHeaderSize,
        maxDatagramSize: configuration.maxDatagramSize,
        acceptAnySource: configuration.acceptAnySource,
        ipv6: tunnel == nil && configuration.tunIPv6Address != nil, tunnel: tunnel,
        underlayIPv6: socket.isIPv6),
      intents: intents, tunnel: tunnel)
  }

  /// A snapshot brought sessions for staged packets (or dropped some): they go (or their
  /// buffers go back) before anything this batch reads.
  @inline(never)
  private func releaseStaged(_ loop: LoopParts, _ routes: RouteSnapshot) {
    while loop.tunToUDP.releaseStaged(routes) { submit(loop) }
    submit(loop)
  }

  /// Submits what the last batch produced and waits for at least one completion. With a poll
  /// window (`-udp-poll-usecs`) and after a batch that handled completions, first polls: runs
  /// the deferred task work (`getEvents`) until completions appear or the window passes, yielding
  /// the CPU between polls to any other runnable task. Every sleep's length (from the end of
  /// the batch) and every poll that caught a completion adapt the window (`PollWindow`). Every io_uring_enter counts as a submission
  /// (the submit only when it had SQEs: liburing enters the kernel only then). Returns the
  /// SQEs submitted, or -errno.
  @inline(__always)
  private func waitForCompletions(
    _ ring: Ring, _ window: inout PollWindow, afterActiveBatch active: Bool
  ) -> Int32 {
    bank.add(.submissions)
    guard window.maximum > 0 else { return ring.submitAndWait(1) }
    let start = monotonicNanoseconds()
    var submitted: Int32 = 0
    if window.shouldPoll(afterActiveBatch: active) {
      submitted = ring.submit()
      if submitted != 0 { bank.add(.submissions) }
      if submitted < 0 || ring.completionsReady > 0 { return submitted }
      repeat {
        sched_yield()
        _ = ring.getEvents()
        bank.add(.submissions)
        if ring.completionsReady > 0 {
          bank.add(.pollHits)
          window.caught()
          return submitted
        }
      } while monotonicNanoseconds() &- start < window.current
      bank.add(.pollMisses)
    }
    let waited = ring.submitAndWait(1)
    window.slept(monotonicNanoseconds() &- start)
    return waited < 0 ? waited : submitted &+ waited
  }

  @inline(__always)
  private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
  }

  /// Hands every ready completion to `body` (user_data, result, flags) in batches of up to
  /// `cqeBatch`; returns how many there were.
  @inline(__always)
  private func reap(
    _ ring: Ring, _ cqes: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>,
    _ body: (UInt64, Int32, UInt32) -> Void
  ) -> Int {
    var handled = 0
    while true {
      let ready = ring.peek(cqes, capacity: Self.cqeBatch)
      if ready == 0 { break }
      for i in 0..<ready {
        let cqe = cqes[i]!
        body(cqe.pointee.user_data, cqe.pointee.res, cqe.pointee.flags)
      }
      ring.advance(ready)
      handled &+= ready
    }
    return handled
  }

  /// One completion: its pipeline decides, `submit` carries the intents out.
  @inline(__always)
  private func complete(
    _ userData: UInt64, _ result: Int32, _ flags: UInt32, _ loop: LoopParts,
    _ routes: RouteSnapshot
  ) {
    let (operation, id) = RingOperation.decode(userData)
    let more = flags & IORING_CQE_F_MORE != 0
    switch operation {
    case .tunRead:
      if !more { tunReadEnded(loop) }
      if let id = loop.tun.buffers.take(flags: flags) {
        loop.tunToUDP.packetRead(id, result, routes)
      } else {
        bank.countReadFailure(result)
      }
    case .udpReceive:
      if !more { receiveEnded(loop) }
      if let id = loop.udp.buffers.take(flags: flags) {
        loop.udpToTun.datagramReceived(id, result, routes)
      } else {
        bank.countReadFailure(result)
      }
    case .udpSend:
      loop.submitter.ended()
      loop.tunToUDP.sendCompleted(id, result)
    case .splitSend:
      loop.submitter.ended()
      loop.tunToUDP.splitSendCompleted(id, result)
    case .icmpWrite, .icmpv6Write:
      loop.submitter.ended()
      bank.add(
        result < 0 ? .dropTunWriteError : operation == .icmpWrite ? .icmpSent : .icmpv6Sent)
      loop.tun.buffers.recycle(id)
    case .tunWrite, .tunWriteCoalesced:
      loop.submitter.ended()
      loop.udpToTun.writeCompleted(id, result, coalesced: operation == .tunWriteCoalesced)
    case .wake:
      loop.submitter.ended()
      // stop() and update(tunnel:) write the eventfd: re-arm unless the loop is stopping (a
      // new tunnel snapshot is picked up at the top of the next iteration).
      if !stopRequested.load(ordering: .relaxed) { postWake(loop) }
    case .cancel:
      loop.submitter.ended()
    case .none:
      break
    }
    submit(loop)
  }

  /// Carries out the pipelines' intents in order. An intent whose request finds no free SQE
  /// (the queue is sized so that it should not happen) is handed back to its pipeline as not
  /// sent, which drops and counts its packets; the intents that produces are carried out too.
  @inline(__always)
  private func submit(_ loop: LoopParts) {
    let intents = loop.intents
    var i = 0
    while i < intents.count {
      switch intents[i] {
      case .send(let header, let operation, let id):
        if loop.udp.prepareSend(loop.submitter, header, as: operation, id: id) {
          bank.add(.udpSends)
        } else if operation == .splitSend {
          loop.tunToUDP.splitSendCompleted(id, -EBUSY, submitted: false)
        } else {
          loop.tunToUDP.sendNotSubmitted(id)
        }
      case .write(let bytes, let length, let operation, let id):
        if !loop.tun.prepareWrite(loop.submitter, bytes, length: length, as: operation, id: id) {
          writeNotSubmitted(operation, id, loop)
        }
      case .writev(let vectors, let count, let operation, let id):
        if !loop.tun.prepareWritev(loop.submitter, vectors, count: count, as: operation, id: id) {
          writeNotSubmitted(operation, id, loop)
        }
      case .recycleTun(let id):
        loop.tun.buffers.recycle(id)
      case .recycleUDP(let id):
        loop.udp.buffers.recycle(id)
      case .offloadsOff(let decision, let operation, let errno):
        offloadsTurnedOff(decision, after: operation, errno: errno)
      }
      i &+= 1
    }
    intents.removeAll()
  }

  private func writeNotSubmitted(_ operation: RingOperation, _ id: Int, _ loop: LoopParts) {
    if operation == .icmpWrite || operation == .icmpv6Write {
      loop.tun.buffers.recycle(id)
    } else {
      loop.udpToTun.writeCompleted(
        id, -EBUSY, coalesced: operation == .tunWriteCoalesced, submitted: false)
    }
  }

  @inline(__always)
  private func tunReadEnded(_ loop: LoopParts) {
    loop.submitter.ended()
    loop.tun.readEnded()
  }

  @inline(__always)
  private func receiveEnded(_ loop: LoopParts) {
    loop.submitter.ended()
    loop.udp.receiveEnded()
  }

  /// Hands recycled buffers to the kernel and re-arms whatever ended: the TUN's read(s) and
  /// the socket's RECVMSG. A request that ended for lack of buffers is re-armed only once
  /// some are back.
  @inline(__always)
  private func arm(_ loop: LoopParts) {
    loop.tun.buffers.publish()
    loop.udp.buffers.publish()
    if stopRequested.load(ordering: .relaxed) { return }
    loop.tun.arm(loop.submitter)
    loop.udp.arm(loop.submitter)
  }

  private func postWake(_ loop: LoopParts) {
    guard let sqe = loop.submitter.sqe() else { return }
    io_uring_prep_read(sqe, wakeFD, loop.wakeBuffer, 8, 0)
    loop.submitter.finish(sqe, .wake, 0)
  }

  /// Cancels every posted operation and waits for all final completions, so that no kernel
  /// write into the buffers can happen after they are freed. Packets still arriving are
  /// dropped (their buffers go straight back).
  private func drain(
    _ ring: Ring, _ loop: LoopParts,
    _ cqes: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
  ) {
    loop.submitter.cancelAll()
    let noRoutes = RouteSnapshot.empty
    while loop.submitter.inFlight > 0 {
      let submitted = ring.submitAndWait(1)
      if submitted < 0 && submitted != -EINTR && submitted != -EAGAIN { break }
      _ = reap(ring, cqes) { userData, result, flags in
        let more = flags & IORING_CQE_F_MORE != 0
        // Finish completions without producing new work.
        switch RingOperation.decode(userData).operation {
        case .tunRead:
          if !more { tunReadEnded(loop) }
          if let id = loop.tun.buffers.take(flags: flags) { loop.tun.buffers.recycle(id) }
        case .udpReceive:
          if !more { receiveEnded(loop) }
          if let id = loop.udp.buffers.take(flags: flags) { loop.udp.buffers.recycle(id) }
        default:
          complete(userData, result, flags, loop, noRoutes)
        }
      }
      // Buffers are handed back (nothing is re-armed) so that a multishot request still
      // running does not end on -ENOBUFS before the cancel reaches it.
      loop.tun.buffers.publish()
      loop.udp.buffers.publish()
    }
  }
}
