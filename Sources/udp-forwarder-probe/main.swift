import DataPlane
// A kernel-test harness for the DataPlane module: runs one Forwarder between a TUN device and a
// UDP socket with static routes, prints the TUN name, rewrites a counters file every 100 ms and
// on exit (SIGTERM/SIGINT). Addresses and routes on the TUN are set by the caller (`ip`).
@preconcurrency import Glibc
import Synchronization

enum ProbeSignal {
  static let stop = Atomic<Bool>(false)
}

setvbuf(stdout, nil, _IOLBF, 0)
// A parent (a test runner) may start us with SIGTERM/SIGINT blocked; the mask is inherited.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
let options: ProbeOptions
do {
  options = try ProbeOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
  fputs("udp-forwarder-probe: \(error)\n", stderr)
  exit(2)
}

do {
  let tun = try TunDevice(name: options.tunName)
  try tun.setMTU(options.mtu)
  try tun.setTxQueueLength(options.txQueueLength)
  try tun.setUp()
  let socket = try UDPSocket(address: options.bindAddress, port: options.bindPort)
  let forwarder = try Forwarder(
    tun: tun, socket: socket,
    configuration: ForwarderConfiguration(
      tunAddress: options.tunAddress, acceptAnySource: options.acceptAnySource, mtu: options.mtu,
      maxDatagramSize: options.maxDatagram),
    routes: RouteSnapshot(options.routes))
  try forwarder.start()
  signal(SIGTERM) { _ in ProbeSignal.stop.store(true, ordering: .relaxed) }
  signal(SIGINT) { _ in ProbeSignal.stop.store(true, ordering: .relaxed) }
  print("tun \(tun.name) udp \(socket.port) rcvbuf \(socket.receiveBufferSize)")
  while !ProbeSignal.stop.load(ordering: .relaxed) {
    if let file = options.countersFile { writeCounters(forwarder.counters(), to: file) }
    usleep(100_000)
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

/// `name value` lines, written to a temporary file and renamed so readers never see half.
func writeCounters(_ counters: ForwarderCounters, to path: String) {
  var text = ""
  for child in Mirror(reflecting: counters).children {
    if let label = child.label { text += "\(label) \(child.value)\n" }
  }
  let temporary = path + ".tmp"
  guard let file = fopen(temporary, "w") else { return }
  fputs(text, file)
  fclose(file)
  rename(temporary, path)
}
