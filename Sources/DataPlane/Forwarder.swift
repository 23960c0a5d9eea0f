import CSystemShims
import Dispatch
import Synchronization
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// The udp backend's data plane: moves IPv4 packets between the TUN device and the UDP socket,
/// wire-compatible with stock flanneld (the datagram payload is exactly the inner packet).
///
/// Thread confinement (why `@unchecked Sendable` is sound): after `start()` the ring, the buffers,
/// the local counters and `cachedRoutes` are touched only by the forwarder's own thread, which
/// `start()` creates and `stop()` joins. Other threads reach the forwarder only through
/// `update(routes:)` (the lock-free RouteExchange), `counters()` (relaxed atomic loads),
/// `failure` (a Mutex) and `stop()` (an atomic flag plus an eventfd write).
public final class Forwarder: @unchecked Sendable {
  public let tun: TunDevice
  public let socket: UDPSocket
  /// Where tun → udp datagrams are sent from when not from `socket` (a send-only socket on
  /// another source port, so that the peer's SO_REUSEPORT group spreads them); nil: `socket`.
  public let sendSocket: UDPSocket?
  public let configuration: ForwarderConfiguration

  let routes: RouteExchange
  /// WireGuard sessions (only with `configuration.tunnel`).
  let tunnelSessions = SnapshotExchange<TunnelSnapshot>(.empty)
  let bank = CounterBank()
  let stopRequested = Atomic<Bool>(false)
  let failureBox = Mutex<DataPlaneError?>(nil)
  /// The eventfd `stop()` writes to wake the loop; closed when the forwarder goes.
  private let wake: OwnedDescriptor
  var wakeFD: Int32 { wake.rawValue }
  /// Copies of the descriptors, read per packet without going through the device objects.
  let tunFD: Int32
  let socketFD: Int32
  /// The descriptor the send preps use: `sendSocket`'s, else `socketFD`.
  let sendFD: Int32
  // Forwarder-thread state (see the confinement note above).
  var ring: Ring?
  /// The queue, the port and both directions' buffers while the loop runs.
  var parts: LoopParts?
  var cachedRoutes: UInt = 0
  /// How the loop drives its ring, set once before `start()` returns (see `ioUringFeatures`).
  let featuresBox = Mutex<[String]>([])
  /// Bytes of `VirtioNetHeader` before every packet on the TUN (0 without IFF_VNET_HDR).
  let virtioHeaderSize: Int
  /// Every offload switch (the TUN's as the kernel accepted them, the socket's) and what a
  /// refusal means. Set up by `start()` before the thread runs, then forwarder thread only;
  /// mirrored into `offloadsBox` on every change.
  let offloadState = SharedOffloadState(OffloadState(active: []))
  let noticesBox = Mutex<[String]>([])
  private var thread: pthread_t?
  private let lifecycle = Mutex<Int>(0)  // 0 new, 1 running, 2 stopped

  public init(
    tun: TunDevice, socket: UDPSocket, sendSocket: UDPSocket? = nil,
    configuration: ForwarderConfiguration, routes initial: RouteSnapshot = .empty
  ) throws(DataPlaneError) {
    self.tun = tun
    self.socket = socket
    self.sendSocket = sendSocket
    sendFD = sendSocket?.fd ?? socket.fd
    self.configuration = configuration
    tunFD = tun.fd
    socketFD = socket.fd
    virtioHeaderSize = tun.hasVirtioHeader ? VirtioNetHeader.size : 0
    self.routes = RouteExchange(initial)
    wake = OwnedDescriptor(
      try retryingOnEINTR("eventfd for forwarder wakeup") { flannel_eventfd(0, 1) })
  }

  deinit {
    stop()
  }

  /// Replaces the route table; the forwarder uses it from its next batch on. Any thread; no lock
  /// on the forwarder's side.
  public func update(routes snapshot: RouteSnapshot) {
    routes.publish(snapshot)
  }

  /// Replaces the WireGuard tables (with `configuration.tunnel`); used from the next batch
  /// on. Any thread; no lock on the forwarder's side. Wakes the loop (its eventfd read is
  /// posted again): packets staged for a peer go as soon as its session is here, not with the
  /// next packet that happens to arrive.
  public func update(tunnel snapshot: TunnelSnapshot) {
    tunnelSessions.publish(snapshot)
    var one: UInt64 = 1
    _ = write(wakeFD, &one, 8)
  }

  /// Counters as of the forwarder's last completed batch. Any thread, never blocks the loop.
  public func counters() -> ForwarderCounters { bank.snapshot() }

  /// One line per offload that turned itself off (kernel refused it), oldest first; for the
  /// owner to log once.
  public var offloadNotices: [String] { noticesBox.withLock { $0 } }

  /// True when the loop's descriptors are the ring's registered files (from `start()` on).
  public var usesFixedFiles: Bool { ioUringFeatures.contains(Self.fixedFilesFeature) }

  /// The io_uring features this loop uses, in words for a log line: "single issuer + deferred
  /// task work", "multishot TUN read", "registered files" (each absent when the kernel
  /// refused it; the loop works without any of them). Empty before `start()`.
  public var ioUringFeatures: [String] { featuresBox.withLock { $0 } }
  static let fixedFilesFeature = "registered files"

  /// The offloads in use now: the TUN's (from `start()` on) and the socket's UDP GSO / GRO
  /// (once `start()` returned). Read at scrape time; written only when one changes.
  public var offloads: TunOffloads { offloadsBox.withLock { $0 } }
  let offloadsBox = Mutex<TunOffloads>([])

  /// Why the loop ended on its own, if it did.
  public var failure: DataPlaneError? { failureBox.withLock { $0 } }

  /// Creates the ring and starts the forwarding thread; returns once the thread has its reads
  /// posted. Throws when the ring cannot be created or bound to the new thread.
  public func start() throws(DataPlaneError) {
    try lifecycle.withLock { state throws(DataPlaneError) in
      guard state == 0 else { throw DataPlaneError("forwarder start", errno: EALREADY) }
      negotiateOffloads()
      let bufferCount = configuration.tunBufferCount + configuration.udpBufferCount
      // A buffer produces at most one SQE (its send or write) per batch, plus the re-arms,
      // the wakeup read and a cancel: the submission queue never fills. Completions: one per
      // buffer filled plus one per send/write, within the 2× completion queue.
      ring = try Ring(entries: UInt32(bufferCount + 8))
      let ready = DispatchSemaphore(value: 0)
      let context = Unmanaged.passRetained(StartContext(self, ready)).toOpaque()
      var handle = pthread_t()
      let created = pthread_create(&handle, nil, forwarderThreadMain, context)
      if created != 0 {
        Unmanaged<StartContext>.fromOpaque(context).release()
        throw DataPlaneError("pthread_create for forwarder", errno: created)
      }
      thread = handle
      state = 1
      ready.wait()
      if let failure = failureBox.withLock({ $0 }) {
        pthread_join(handle, nil)
        thread = nil
        state = 2
        throw failure
      }
    }
  }

  /// Stops the loop (in-flight operations are cancelled and drained) and joins the thread.
  /// Idempotent; safe before `start()`.
  public func stop() {
    lifecycle.withLock { state in
      guard state == 1, let handle = thread else {
        state = 2
        return
      }
      stopRequested.store(true, ordering: .sequentiallyConsistent)
      var one: UInt64 = 1
      _ = write(wakeFD, &one, 8)
      pthread_join(handle, nil)
      thread = nil
      state = 2
    }
  }

  /// The offload state at start: with a virtio header, TUNSETOFFLOAD with what the
  /// configuration asks (on refusal dropping USO, then TSO, then the checksum offload, one
  /// notice each); UDP GSO when configured.
  private func negotiateOffloads() {
    var wanted: TunOffloads = []
    if tun.hasVirtioHeader {
      wanted = OffloadState.tunOffloadsToAsk(
        configured: configuration.tunOffloads, socketSegmentation: configuration.udpSegmentation)
      while true {
        do throws(SystemCallError) {
          try tun.setOffloads(wanted.kernelFlags)
          break
        } catch {
          guard let next = OffloadState.fallback(afterRefusing: wanted) else { break }
          wanted = next
          notice(
            "TUNSETOFFLOAD refused (errno \(error.errno)); offloads now: \(wanted.description)")
        }
      }
    }
    if configuration.udpSegmentation { wanted.insert(.socketSegmentation) }
    setOffloadState(OffloadState(active: wanted))
  }

  func notice(_ text: String) {
    noticesBox.withLock { $0.append(text) }
    bank.add(.offloadsDisabled)
  }

  /// UDP GRO, once the thread found whether the kernel accepts the socket option (UDP GSO,
  /// a per-send option, went in with the TUN's at start). Forwarder thread, before the loop.
  func recordReceiveOffload(_ accepted: Bool) {
    guard accepted else { return }
    setOffloadState(OffloadState(active: offloadState.state.active.union(.socketReceiveOffload)))
  }

  private func setOffloadState(_ state: OffloadState) {
    offloadState.state = state
    offloadsBox.withLock { $0 = state.active }
  }

  /// Carries out what `offloadState` decided after a refusal: TUNSETOFFLOAD when the TUN's
  /// offloads changed, the mirror for other threads, one notice per offload group turned off.
  /// Rare (at most once per offload): not on the per-packet path.
  @inline(never)
  func offloadsTurnedOff(
    _ decision: OffloadState.Decision, after operation: OffloadState.Operation, errno: Int32
  ) {
    // A refusal here leaves the TUN's offloads as they were: the kernel keeps sending
    // super-packets, which are dropped and counted (TCP resends them as plain packets).
    if decision.tunFlagsChanged { try? tun.setOffloads(offloadState.state.active.kernelFlags) }
    offloadsBox.withLock { $0 = offloadState.state.active }
    let lines = OffloadState.notices(
      turnedOff: decision.turnedOff, after: operation, errno: errno)
    for line in lines {
      notice(line)
    }
  }

  func recordFailure(_ error: DataPlaneError) {
    failureBox.withLock { $0 = $0 ?? error }
  }
}

/// What the new thread needs: the forwarder (kept alive by this +1 reference until the thread
/// has started) and the semaphore `start()` waits on.
final class StartContext {
  let forwarder: Forwarder
  let ready: DispatchSemaphore
  init(_ forwarder: Forwarder, _ ready: DispatchSemaphore) {
    self.forwarder = forwarder
    self.ready = ready
  }
}

private func forwarderThreadMain(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
  let context = Unmanaged<StartContext>.fromOpaque(raw!).takeRetainedValue()
  // A name of its own for top/perf (it would inherit the creating thread's, often a Dispatch
  // worker's "…default-qos").
  _ = flannel_set_thread_name("flannel-fwd")
  context.forwarder.run(ready: context.ready)
  return nil
}
