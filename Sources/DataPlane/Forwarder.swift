import CSystemShims
import Dispatch
import Synchronization

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
  let bank = CounterBank()
  let stopRequested = Atomic<Bool>(false)
  let failureBox = Mutex<DataPlaneError?>(nil)
  let wakeFD: Int32
  /// Copies of the descriptors, read per packet without going through the device objects.
  let tunFD: Int32
  let socketFD: Int32
  /// The descriptor the send preps use: `sendSocket`'s, else `socketFD`.
  let sendFD: Int32
  // Forwarder-thread state (see the confinement note above).
  var ring: Ring?
  var buffers: LoopBuffers?
  var cachedRoutes: UInt = 0
  /// Multishot requests currently armed (each ends with a completion without F_MORE).
  var tunReadArmed = false
  var receiveArmed = false
  /// One-shot TUN READs posted (only when multishot READ is off or unsupported).
  var postedTunReads = 0
  /// Operations whose final completion has not been seen (multishot ones count once).
  var inFlight = 0
  /// READ_MULTISHOT on the TUN (configured and supported by the kernel).
  var multishotRead = false
  /// The TUN, the sockets and the wake eventfd are the ring's fixed files (registered at
  /// their own numbers): every request but the cancel carries IOSQE_FIXED_FILE.
  var fixedFiles = false
  /// How the loop drives its ring, set once before `start()` returns (see `ioUringFeatures`).
  let featuresBox = Mutex<[String]>([])
  /// Bytes of `VirtioNetHeader` before every packet on the TUN (0 without IFF_VNET_HDR).
  let virtioHeaderSize: Int
  /// The offloads the kernel accepted at start (the TUN's and the socket's); shrinks when one
  /// turns itself off. Forwarder thread; copied into `offloadsBox` on every change.
  var activeOffloads: TunOffloads = []
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
    wakeFD = flannel_eventfd(0, 1)
    if wakeFD < 0 { throw DataPlaneError("eventfd for forwarder wakeup", errno: errno) }
  }

  deinit {
    stop()
    close(wakeFD)
  }

  /// Replaces the route table; the forwarder uses it from its next batch on. Any thread; no lock
  /// on the forwarder's side.
  public func update(routes snapshot: RouteSnapshot) {
    routes.publish(snapshot)
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
      if tun.hasVirtioHeader { negotiateOffloads() }
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

  /// TUNSETOFFLOAD with what the configuration asks; on refusal drops USO, then TSO, then
  /// the checksum offload, one notice each.
  private func negotiateOffloads() {
    var wanted = configuration.tunOffloads
    for fallback: TunOffloads in [.udpSegmentation, .tcpSegmentation, .checksum] {
      let error = tun.setOffloads(wanted.kernelFlags)
      if error == 0 { break }
      if wanted.contains(fallback) {
        wanted.remove(fallback)
        notice("TUNSETOFFLOAD refused (errno \(error)); offloads now: \(wanted.description)")
      }
    }
    activeOffloads = wanted
    offloadsBox.withLock { $0 = wanted }
  }

  func notice(_ text: String) {
    noticesBox.withLock { $0.append(text) }
    bank.add(.offloadsDisabled)
  }

  /// Turns the segmentation offloads off at run time (a GSO send of a split super-packet was
  /// refused): the kernel segments by itself from now on.
  func disableSegmentationOffloads(reason: Int32) {
    guard !activeOffloads.isDisjoint(with: [.tcpSegmentation, .udpSegmentation]) else { return }
    activeOffloads.subtract([.tcpSegmentation, .udpSegmentation])
    _ = tun.setOffloads(activeOffloads.kernelFlags)
    offloadsBox.withLock { $0 = activeOffloads }
    notice("GSO send of a split super-packet refused (errno \(reason)); TUN TSO/USO off")
  }

  /// Turns receive-side coalescing off at run time (the kernel refused a TUN write with a
  /// TSO or USO virtio header): received packets are written one by one from now on.
  func disableReceiveCoalescing(reason: Int32) {
    guard activeOffloads.contains(.receiveCoalescing) else { return }
    activeOffloads.remove(.receiveCoalescing)
    offloadsBox.withLock { $0 = activeOffloads }
    notice("TUN write of a coalesced super-packet refused (errno \(reason)); receive GRO off")
  }

  /// The socket's UDP GSO as the thread set it up: on when configured (sends are grouped into
  /// runs), UDP GRO when the kernel accepted the socket option. Forwarder thread, before the
  /// loop.
  func recordSocketOffloads(segmentation: Bool, receiveOffload: Bool) {
    if segmentation { activeOffloads.insert(.socketSegmentation) }
    if receiveOffload { activeOffloads.insert(.socketReceiveOffload) }
    offloadsBox.withLock { $0 = activeOffloads }
  }

  /// UDP GSO went off for good (a GSO send failed with EIO: the egress device cannot segment);
  /// the caller has already stopped grouping sends into runs.
  func disableSocketSegmentation(reason: Int32) {
    guard activeOffloads.contains(.socketSegmentation) else { return }
    activeOffloads.remove(.socketSegmentation)
    offloadsBox.withLock { $0 = activeOffloads }
    notice("UDP GSO send refused (errno \(reason)); one datagram per send from now on")
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
