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
  let tun = try TunDevice(name: options.tunName, virtioHeader: !options.offloads.isEmpty)
  try tun.setMTU(options.mtu)
  try tun.setTxQueueLength(options.txQueueLength)
  try tun.setUp()
  let socket = try UDPSocket(address: options.bindAddress, port: options.bindPort)
  var configuration = ForwarderConfiguration(
    tunAddress: options.tunAddress, acceptAnySource: options.acceptAnySource, mtu: options.mtu,
    maxDatagramSize: options.maxDatagram, multishotTunRead: options.tunReads == nil,
    tunReadDepth: options.tunReads ?? 1, udpSegmentation: options.udpSegmentation,
    udpReceiveOffload: options.udpReceiveOffload)
  configuration.tunOffloads = options.offloads
  let forwarder = try Forwarder(
    tun: tun, socket: socket, configuration: configuration, routes: RouteSnapshot(options.routes))
  try forwarder.start()
  for notice in forwarder.offloadNotices { fputs("udp-forwarder-probe: \(notice)\n", stderr) }
  signal(SIGTERM) { _ in ProbeSignal.stop.store(true, ordering: .relaxed) }
  signal(SIGINT) { _ in ProbeSignal.stop.store(true, ordering: .relaxed) }
  signal(SIGUSR1) { _ in ProbeSignal.reload.store(true, ordering: .relaxed) }
  if let file = options.routesFile, let routes = readRoutes(file) {
    forwarder.update(routes: RouteSnapshot(routes))
  }
  print(
    "tun \(tun.name) udp \(socket.port) rcvbuf \(socket.receiveBufferSize) offloads \(forwarder.offloads.description)"
  )
  while !ProbeSignal.stop.load(ordering: .relaxed) {
    if ProbeSignal.reload.exchange(false, ordering: .relaxed), let file = options.routesFile {
      if let routes = readRoutes(file) {
        forwarder.update(routes: RouteSnapshot(routes))
        print("routes \(routes.count) from \(file)")
      } else {
        fputs("udp-forwarder-probe: cannot read routes from \(file)\n", stderr)
      }
    }
    if let file = options.countersFile { writeCounters(forwarder.counters(), to: file) }
    usleep(50_000)
  }
  forwarder.stop()
  if let file = options.countersFile { writeCounters(forwarder.counters(), to: file) }
  if let failure = forwarder.failure {
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

/// `name value` lines, written to a temporary file and renamed so readers never see half.
func writeCounters(_ counters: ForwarderCounters, to path: String) {
  var text = ""
  for child in Mirror(reflecting: counters).children {
    if let label = child.label { text += "\(label) \(child.value)\n" }
  }
  text += "packetsMoved \(counters.packetsMoved)\n"
  text += "packetsPerSubmission \(counters.packetsPerSubmission)\n"
  let temporary = path + ".tmp"
  guard let file = fopen(temporary, "w") else { return }
  fputs(text, file)
  fclose(file)
  rename(temporary, path)
}
