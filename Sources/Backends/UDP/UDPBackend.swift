import DataPlane
import FlannelCore
import Foundation
import Logging
import Netlink
import SubnetManager
import Synchronization

/// The udp backend (flannel-behaviour §4): TUN `flannel0` ⇄ UDP, each inner IPv4 packet the
/// payload of one datagram, wire-compatible with stock flanneld. Packets are moved by the
/// DataPlane `Forwarder` on its own thread; this type sets up the TUN, its address and route
/// (through rtnetlink), the socket, and hands the forwarder a new route snapshot whenever the
/// lease table changes.
public final class UDPBackend: Backend {
  let context: BackendContext
  /// The port to listen on and to send to (§4.1); every node of a cluster uses the same one.
  public let port: Int
  /// External MTU − 20 (IP) − 8 (UDP).
  public let mtu: Int
  let netlink: NetlinkSocket
  private let state = Mutex(State())

  private struct State {
    var forwarder: Forwarder?
    var lease: Lease?
    var table = LeaseTable([])
  }

  public init(context: BackendContext) throws {
    self.context = context
    let choice = UDPPortChoice.resolve(
      configPort: context.network.backend.int("Port"), commandLine: context.portOverride)
    if let warning = choice.warning { context.logger.warning("\(warning)") }
    port = choice.port
    mtu = context.external.mtu - 28
    netlink = try NetlinkSocket()
  }

  public func prepare() async throws -> BackendLeaseAttributes {
    // Stock udp writes no BackendType, only the PublicIP.
    BackendLeaseAttributes(backendType: "", mtu: mtu)
  }

  /// TUN offloads from `-udp-offloads` (or FLANNELD_UDP_OFFLOADS: `csum,tso,uso`, `all`,
  /// `none`); off when unparsable (with a warning).
  static func requestedOffloads(_ list: String, logger: Logger) -> TunOffloads {
    guard let offloads = TunOffloads(list: list) else {
      logger.warning("udp backend: -udp-offloads=\(list) not understood; offloads off")
      return []
    }
    return offloads
  }

  /// Creates flannel0 for the lease (again, when the lease moved): address
  /// `<lease network>/32`, MTU, up, the route to the whole Network, the socket bound to the
  /// interface address, and a running forwarder.
  public func configure(ownLease: Lease) async throws {
    let old = state.withLock { s -> Forwarder? in
      defer { s.forwarder = nil }
      return s.forwarder
    }
    old?.stop()
    old?.tun.close()
    old?.socket.close()

    let offloads = Self.requestedOffloads(context.udpOffloads, logger: context.logger)
    let tun = try TunDevice(name: "flannel%d", virtioHeader: !offloads.isEmpty)
    do {
      try tun.setMTU(mtu)
      // Stock leaves 500; a UDP burst overflows that (perf-notes §7).
      try tun.setTxQueueLength(2_000)
      try tun.setUp()
      guard let link = try netlink.link(named: tun.name) else {
        throw NetlinkError(operation: "link get", object: tun.name, errno: ENODEV)
      }
      let address = InterfaceAddress(
        linkIndex: link.index, address: ownLease.subnet.address, prefixLength: 32)
      if try !netlink.addresses(linkIndex: link.index).contains(address) {
        try netlink.addAddress(address)
      }
      try netlink.replaceRoute(
        Netlink.Route(destination: context.network.network, outputIndex: link.index))
      // The forwarder's "net unreachable" replies come from the lease network address, which
      // is flannel0's own: without accept_local the kernel drops them as martians (stock
      // flanneld never set it, so its replies never arrived).
      allowLocalSource(on: tun.name)
      let socket = try UDPSocket(address: context.external.address.value, port: UInt16(port))
      var configuration = ForwarderConfiguration(
        tunAddress: ownLease.subnet.address.value,
        acceptAnySource: context.udpAcceptAnySource, mtu: mtu)
      configuration.tunOffloads = offloads
      let forwarder = try Forwarder(tun: tun, socket: socket, configuration: configuration)
      let table = state.withLock { s -> LeaseTable in
        s.forwarder = forwarder
        s.lease = ownLease
        return s.table
      }
      forwarder.update(routes: snapshot(of: table))
      try forwarder.start()
      for notice in forwarder.offloadNotices { context.logger.warning("udp backend: \(notice)") }
      if !offloads.isEmpty {
        context.logger.info("udp backend: TUN offloads \(forwarder.offloads.description)")
      }
      context.logger.info(
        "udp backend: \(tun.name) \(ownLease.subnet.address)/32 MTU \(mtu), route \(context.network.network) dev \(tun.name), UDP \(context.external.address):\(port)\(context.udpAcceptAnySource ? ", accepting datagrams from any source" : "")"
      )
    } catch {
      tun.close()
      throw error
    }
  }

  /// A new route snapshot for the forwarder: every lease of another node (any backend type,
  /// as stock) → its PublicIP on our port.
  public func apply(_ update: LeaseUpdate) async {
    let forwarder = state.withLock { s -> Forwarder? in
      s.table = update.table
      return s.forwarder
    }
    forwarder?.update(routes: snapshot(of: update.table))
  }

  /// Stops the forwarder; flannel0 goes with its file descriptor, as with stock.
  public func stop() async {
    let forwarder = state.withLock { s -> Forwarder? in
      defer { s.forwarder = nil }
      return s.forwarder
    }
    guard let forwarder else { return }
    forwarder.stop()
    writeCountersFile(forwarder.counters())
    forwarder.tun.close()
    forwarder.socket.close()
  }

  /// The forwarder's counters, for /metrics and logs; nil before `configure`.
  public func counters() -> ForwarderCounters? {
    state.withLock { $0.forwarder }?.counters()
  }

  func allowLocalSource(on device: String) {
    let path = "/proc/sys/net/ipv4/conf/\(device)/accept_local"
    do {
      try "1".write(toFile: path, atomically: false, encoding: .utf8)
    } catch {
      context.logger.warning(
        "Could not set \(path) to 1 (\(error)): ICMP net-unreachable replies will not reach senders"
      )
    }
  }

  func snapshot(of table: LeaseTable) -> RouteSnapshot {
    RouteSnapshot(
      table.leases.map {
        DataPlane.Route(
          network: $0.subnet.address.value, prefixLength: $0.subnet.prefixLength,
          nextHop: $0.attrs.publicIP.value, port: UInt16(port))
      })
  }

  /// `FLANNEL_COUNTERS_FILE` (Scripts/bench.sh sets it): the final counters as key=value lines.
  func writeCountersFile(_ counters: ForwarderCounters) {
    guard let path = ProcessInfo.processInfo.environment["FLANNEL_COUNTERS_FILE"] else { return }
    let text = """
      packets=\(counters.packetsMoved)
      submissions=\(counters.submissions)
      packets_per_submission=\(counters.packetsPerSubmission)
      sqes=\(counters.sqesSubmitted)
      udp_sent=\(counters.udpPacketsSent)
      tun_written=\(counters.tunPacketsWritten)
      udp_sends=\(counters.udpSends)
      udp_received=\(counters.udpPacketsReceived)
      udp_receives=\(counters.udpReceives)
      tun_super_packets=\(counters.tunSuperPackets)
      tun_split_packets=\(counters.tunSplitPackets)
      drop_offload=\(counters.dropOffload)
      drop_send_error=\(counters.dropSendError)
      offloads_disabled=\(counters.offloadsDisabled)
      tun_coalesced_writes=\(counters.tunCoalescedWrites)
      tun_coalesced_packets=\(counters.tunCoalescedPackets)
      tun_coalesced_udp_writes=\(counters.tunCoalescedUDPWrites)
      tun_coalesced_udp_packets=\(counters.tunCoalescedUDPPackets)

      """
    try? text.write(toFile: path, atomically: true, encoding: .utf8)
  }
}
