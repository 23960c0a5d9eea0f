import DataPlane
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The udp backend's forwarders, one per queue of one multi-queue TUN: each has its own
/// thread, ring, TUN queue descriptor and receive socket. With several, the receive sockets
/// share the backend port through SO_REUSEPORT (the kernel spreads datagrams over them by
/// the sender's address and port), and worker i ≥ 1 sends from its own send-only socket on an
/// ephemeral port, so that a peer with several workers spreads our traffic over its sockets
/// in turn. Worker 0 sends from the backend port, as stock does; stock peers ignore the
/// source port. With one worker everything is exactly the single-queue setup.
final class UDPWorkers: Sendable {
  let forwarders: [Forwarder]
  /// Queue 0 names the device; MTU, flags and addresses are per device, not per queue.
  var device: TunDevice { forwarders[0].tun }
  /// 0, or why the receive sockets could not be steered by inner flow (SO_REUSEPORT then
  /// spreads by the peers' outer ports only).
  /// Why datagrams are not steered to workers by inner flow (nil: they are, or one worker).
  let steeringError: DataPlaneError?
  /// Which offload notices `newNotices()` already handed out.
  private let noticeCursor: Mutex<NoticeCursor>

  /// How the receive sockets of several workers share the datagrams.
  enum Steering {
    /// By the inner packet's flow (udp backend), each worker i ≥ 1 sending from a port of
    /// its own.
    case innerFlow
    /// By the WireGuard receiver index (wireguard backend), every worker sending from the
    /// backend port: a WireGuard peer takes the source of what it receives as our endpoint.
    case receiverIndex
  }

  /// Opens the TUN queues and the sockets and builds (does not start) the forwarders.
  init(
    count: Int, tunName: String, virtioHeader: Bool, address: UnderlayAddress, port: UInt16,
    configuration: ForwarderConfiguration, steering: Steering = .innerFlow
  ) throws {
    // SO_REUSEPORT would let a second daemon on this address and port join the group
    // silently and take part of the traffic: a plain bind first fails with EADDRINUSE then,
    // as it does with one worker. A daemon restarted right after a SIGKILL meets its
    // predecessor's sockets for a moment (the kernel tears an io_uring down asynchronously,
    // after the process is gone): the port is retried for a few seconds before giving up.
    try Self.waitUntilFree(address: address, port: port)
    let queues = try TunDevice.openQueues(
      name: tunName, count: count, virtioHeader: virtioHeader)
    var sockets: [UDPSocket] = []
    var forwarders: [Forwarder] = []
    do {
      for (index, queue) in queues.enumerated() {
        let receive = try UDPSocket(underlay: address, port: port, reusePort: count > 1)
        sockets.append(receive)
        var send: UDPSocket?
        if index > 0 && steering == .innerFlow {
          send = try UDPSocket(underlay: address, port: 0)
          sockets.append(send!)
        }
        var own = configuration
        own.tunnel?.worker = index
        own.tunnel?.workers = count
        forwarders.append(
          try Forwarder(tun: queue, socket: receive, sendSocket: send, configuration: own))
      }
    } catch {
      for socket in sockets { socket.close() }
      for queue in queues { queue.close() }
      throw error
    }
    do throws(DataPlaneError) {
      if count > 1 {
        switch steering {
        case .innerFlow: try forwarders[0].socket.steerByInnerFlow(groupSize: count)
        case .receiverIndex: try forwarders[0].socket.steerByReceiverIndex(groupSize: count)
        }
      }
      steeringError = nil
    } catch {
      steeringError = error
    }
    self.forwarders = forwarders
    noticeCursor = Mutex(NoticeCursor(workers: forwarders.count))
  }

  /// How long a port held by a vanished predecessor is waited for.
  static let portWaitSeconds = 5

  /// Binds and closes a plain socket on `address:port`, retrying EADDRINUSE every 100 ms for
  /// `portWaitSeconds`; throws the last error.
  static func waitUntilFree(address: UnderlayAddress, port: UInt16) throws {
    let attempts = portWaitSeconds * 10
    for attempt in 1...attempts {
      do {
        try UDPSocket(underlay: address, port: port, bufferSize: 0).close()
        return
      } catch {
        if error.errno != EADDRINUSE || attempt == attempts { throw error }
        usleep(100_000)
      }
    }
  }

  /// The source port each worker sends from (worker 0: the backend port).
  var sendPorts: [UInt16] { forwarders.map { ($0.sendSocket ?? $0.socket).port } }

  /// Starts every forwarder; when one fails, stops the ones already running and throws.
  func start() throws {
    for (index, forwarder) in forwarders.enumerated() {
      do {
        try forwarder.start()
      } catch {
        for started in forwarders[..<index] { started.stop() }
        throw error
      }
    }
  }

  func update(routes: RouteSnapshot) {
    for forwarder in forwarders { forwarder.update(routes: routes) }
  }

  /// Stops and joins every forwarder thread.
  func stop() {
    for forwarder in forwarders { forwarder.stop() }
  }

  /// Closes sockets and TUN queues (after `stop`); the device goes with its last queue.
  func close() {
    for forwarder in forwarders {
      forwarder.sendSocket?.close()
      forwarder.socket.close()
      forwarder.tun.close()
    }
  }

  /// Each forwarder's counters, worker 0 first (relaxed loads: never blocks a forwarder).
  func workerCounters() -> [ForwarderCounters] { forwarders.map { $0.counters() } }

  /// Offload notices not handed out before, each prefixed with its worker when there are
  /// several. Cheap (one mutex per worker): polled by a timer, never by the packet path.
  func newNotices() -> [String] {
    noticeCursor.withLock { $0.fresh(forwarders.map(\.offloadNotices)) }
  }

  /// Offloads in use, as reported by worker 0 (the TUN's flags are per device; the socket's
  /// are set the same way on every worker's socket).
  var offloads: TunOffloads { forwarders[0].offloads }
  var ioUringFeatures: [String] { forwarders[0].ioUringFeatures }
}

/// Per worker, how many of its notices (a list that only grows) were handed out already.
struct NoticeCursor {
  private var seen: [Int]

  init(workers: Int) { seen = [Int](repeating: 0, count: workers) }

  /// The notices not seen before, oldest first per worker, prefixed with the worker when
  /// there are several.
  mutating func fresh(_ lists: [[String]]) -> [String] {
    var fresh: [String] = []
    for (index, notices) in lists.enumerated() where index < seen.count {
      guard notices.count > seen[index] else { continue }
      let prefix = seen.count > 1 ? "worker \(index): " : ""
      fresh += notices[seen[index]...].map { prefix + $0 }
      seen[index] = notices.count
    }
    return fresh
  }
}
