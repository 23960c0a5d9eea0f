import DataPlane
// A kernel-test harness for the DataPlane module: runs one Forwarder between a TUN device and a
// UDP socket with static routes, prints the TUN name, rewrites a counters file every 100 ms and
// on exit (SIGTERM/SIGINT). Addresses and routes on the TUN are set by the caller (`ip`).
@preconcurrency import Glibc
import Synchronization

enum ProbeSignal {
  static let stop = Atomic<Bool>(false)
  static let reload = Atomic<Bool>(false)
}

setvbuf(stdout, nil, _IOLBF, 0)
// A parent (a test runner) may start us with SIGTERM/SIGINT blocked; the mask is inherited.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
sigaddset(&stopSignals, SIGUSR1)
pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
let options: ProbeOptions
do {
  options = try ProbeOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
  fputs("udp-forwarder-probe: \(error)\n", stderr)
  exit(2)
}

do {
  let queues = try TunDevice.openQueues(
    name: options.tunName, count: options.workers,
    virtioHeader: !options.offloads.isDisjoint(with: .tunSide))
  let tun = queues[0]
  try tun.setMTU(options.mtu)
  try tun.setTxQueueLength(options.txQueueLength)
  try tun.setUp()
  let multiple = options.workers > 1
  var configuration = ForwarderConfiguration(
    tunAddress: options.tunAddress, acceptAnySource: options.acceptAnySource,
    maxDatagramSize: options.maxDatagram, multishotTunRead: options.tunReads == nil,
    tunReadDepth: options.tunReads ?? 1, udpSegmentation: options.udpSegmentation,
    udpReceiveOffload: options.udpReceiveOffload)
  configuration.tunOffloads = options.offloads.intersection(.tunSide)
  configuration.pollMicroseconds = options.pollMicroseconds
  var forwarders: [Forwarder] = []
  for (index, queue) in queues.enumerated() {
    let socket = try UDPSocket(
      address: options.bindAddress, port: options.bindPort, reusePort: multiple)
    let send = index > 0 ? try UDPSocket(address: options.bindAddress, port: 0) : nil
    forwarders.append(
      try Forwarder(
        tun: queue, socket: socket, sendSocket: send, configuration: configuration,
        routes: RouteSnapshot(options.routes)))
  }
  let group = ForwarderGroup(forwarders)
  if multiple {
    do throws(DataPlaneError) {
      try forwarders[0].socket.steerByInnerFlow(groupSize: forwarders.count)
    } catch {
      fputs("udp-forwarder-probe: \(error)\n", stderr)
    }
  }
  for forwarder in forwarders { try forwarder.start() }
  for notice in forwarders.flatMap(\.offloadNotices) {
    fputs("udp-forwarder-probe: \(notice)\n", stderr)
  }
  let forwarder = forwarders[0]
  let socket = forwarder.socket
  signal(SIGTERM) { _ in ProbeSignal.stop.store(true, ordering: .relaxed) }
  signal(SIGINT) { _ in ProbeSignal.stop.store(true, ordering: .relaxed) }
  signal(SIGUSR1) { _ in ProbeSignal.reload.store(true, ordering: .relaxed) }
  if let file = options.routesFile, let routes = readRoutes(file) {
    group.update(routes: RouteSnapshot(routes))
  }
  print(
    "tun \(tun.name) udp \(socket.port) rcvbuf \(socket.receiveBufferSize) offloads \(forwarder.offloads.intersection(.tunSide).description) workers \(forwarders.count) fixed-files \(forwarder.usesFixedFiles ? "yes" : "no")"
  )
  while !ProbeSignal.stop.load(ordering: .relaxed) {
    if ProbeSignal.reload.exchange(false, ordering: .relaxed), let file = options.routesFile {
      if let routes = readRoutes(file) {
        group.update(routes: RouteSnapshot(routes))
        print("routes \(routes.count) from \(file)")
      } else {
        fputs("udp-forwarder-probe: cannot read routes from \(file)\n", stderr)
      }
    }
    if let file = options.countersFile { writeCounters(group.counters(), to: file) }
    usleep(50_000)
  }
  for forwarder in forwarders { forwarder.stop() }
  if let file = options.countersFile { writeCounters(group.counters(), to: file) }
  if let failure = forwarders.lazy.compactMap(\.failure).first {
    fputs("udp-forwarder-probe: \(failure)\n", stderr)
    exit(1)
  }
} catch {
  fputs("udp-forwarder-probe: \(error)\n", stderr)
  exit(1)
}

/// Routes from a file of `NET/LEN=A.B.C.D:PORT` lines; nil when unreadable or malformed.
func readRoutes(_ path: String) -> [Route]? {
  guard let file = fopen(path, "r") else { return nil }
  defer { fclose(file) }
  var text = ""
  var chunk = [CChar](repeating: 0, count: 512)
  while fgets(&chunk, Int32(chunk.count), file) != nil {
    text += String(decoding: chunk.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
  var routes: [Route] = []
  for line in text.split(separator: "\n") where !line.isEmpty {
    guard let route = try? ProbeOptions.route(String(line)) else { return nil }
    routes.append(route)
  }
  return routes
}

/// The probe's forwarders, one per TUN queue.
struct ForwarderGroup {
  let forwarders: [Forwarder]
  init(_ forwarders: [Forwarder]) { self.forwarders = forwarders }
  func update(routes: RouteSnapshot) {
    for forwarder in forwarders { forwarder.update(routes: routes) }
  }
  func counters() -> [ForwarderCounters] { forwarders.map { $0.counters() } }
}

/// `name value` lines (the sum over the workers, then `workers N` and `workerI_packetsMoved`),
/// written to a temporary file and renamed so readers never see half.
func writeCounters(_ perWorker: [ForwarderCounters], to path: String) {
  let counters = ForwarderCounters.sum(perWorker)
  var text = ""
  for counter in Counter.allCases { text += "\(counter) \(counters[counter])\n" }
  text += "packetsMoved \(counters.packetsMoved)\n"
  text += "packetsPerSubmission \(counters.packetsPerSubmission)\n"
  text += "workers \(perWorker.count)\n"
  for (index, worker) in perWorker.enumerated() {
    text += "worker\(index)_packetsMoved \(worker.packetsMoved)\n"
  }
  let temporary = path + ".tmp"
  guard let file = fopen(temporary, "w") else { return }
  fputs(text, file)
  fclose(file)
  rename(temporary, path)
}
