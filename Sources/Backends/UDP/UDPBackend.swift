import DataPlane
import FlannelCore
import Foundation
import Logging
import Netlink
import SubnetManager
import Synchronization

/// The udp backend (flannel-behaviour §4): TUN `flannel0` ⇄ UDP, each inner IPv4 packet the
/// payload of one datagram, wire-compatible with stock flanneld. Beyond stock: IPv6 inner
/// packets on a dual-stack network (over the IPv4 underlay), and IPv6-only networks over the
/// IPv6 underlay (`UDPUnderlay`). Packets are moved by DataPlane
/// `Forwarder`s, one per TUN queue on its own thread (`UDPWorkers`, `-udp-workers`); this type
/// sets up the TUN, its address and route (through rtnetlink), the sockets, and hands every
/// forwarder a new route snapshot whenever the lease table changes.
public final class UDPBackend: Backend {
  let context: BackendContext
  /// The port to listen on and to send to (§4.1); every node of a cluster uses the same one.
  public let port: Int
  /// External MTU − 20 (IP) − 8 (UDP); over the IPv6 underlay − 40 − 8.
  public let mtu: Int
  /// IPv4 (stock's, every network with IPv4) or IPv6 (an IPv6-only network).
  public let underlay: UDPUnderlay
  let netlink: NetlinkSocket
  let state = Mutex(State())

  struct State {
    var workers: UDPWorkers?
    /// Logs offload notices that appear at run time (a forwarder turned TSO/USO off).
    var noticePoller: Task<Void, Never>?
    var lease: Lease?
    /// Every other node's lease (any backend type, as stock) → its PublicIP on our port, in
    /// the order a snapshot is built from.
    var routes = OrderedRoutes()
    /// On a dual-stack network: every other lease's IPv6 subnet → its (IPv4) PublicIP.
    var routes6: [IPv6Network: IPv6ForwardingRoute] = [:]
    /// Route snapshots handed to the forwarders so far (/metrics: a lease event has reached
    /// the data plane when this moved).
    var generation: UInt64 = 0
  }

  public init(context: BackendContext) throws {
    self.context = context
    let choice = UDPPortChoice.resolve(
      configPort: try context.network.backend.int("Port"), commandLine: context.portOverride)
    if let warning = choice.warning { context.logger.warning("\(warning)") }
    port = choice.port
    underlay = UDPUnderlay.of(enableIPv4: context.network.enableIPv4)
    mtu = try underlay.tunnelMTU(
      external: context.external, carriesIPv6: context.network.enableIPv6)
    netlink = try NetlinkSocket()
  }

  public func prepare() async throws -> BackendLeaseAttributes {
    // Stock udp writes no BackendType, only the PublicIP.
    BackendLeaseAttributes(backendType: "", mtu: mtu)
  }

  /// Creates flannel0 for the lease (again, when the lease moved): address
  /// `<lease network>/32`, MTU, up, the route to the whole Network, the sockets bound to the
  /// interface address, and running forwarders (one per TUN queue, `-udp-workers`).
  public func configure(ownLease: Lease) async throws {
    let (old, oldPoller) = state.withLock { s in
      defer { (s.workers, s.noticePoller) = (nil, nil) }
      return (s.workers, s.noticePoller)
    }
    oldPoller?.cancel()
    old?.stop()
    old?.close()

    let offloads = context.udp.offloads
    var configuration = ForwarderConfiguration(
      tunAddress: ownLease.subnet.address.value,
      acceptAnySource: context.udp.acceptAnySource)
    configuration.tunOffloads = offloads.intersection(.tunSide)
    configuration.udpSegmentation = offloads.contains(.socketSegmentation)
    configuration.udpReceiveOffload = offloads.contains(.socketReceiveOffload)
    configuration.pollMicroseconds = context.udp.pollMicroseconds
    let ipv6 = context.network.ipv6.flatMap { config in
      ownLease.ipv6Subnet.map { (lease: $0, network: config.network) }
    }
    if let ipv6 {
      configuration.tunIPv6Address = TunIPv6Address(
        high: ipv6.lease.address.high, low: ipv6.lease.address.low)
    }
    let count = UDPWorkerCount.resolve(requested: context.udp.workers)
    let bindAddress = try underlay.bindAddress(of: context.external)
    let workers = try UDPWorkers(
      count: count.count, tunName: "flannel%d",
      virtioHeader: !offloads.isDisjoint(with: .tunSide),
      address: bindAddress, port: UInt16(port), configuration: configuration)
    let tun = workers.device
    let ipv4 = context.network.enableIPv4 ? (ownLease.subnet, context.network.network) : nil
    do {
      try TunDeviceSetup.configure(tun, mtu: mtu, ipv4: ipv4, netlink: netlink, ipv6: ipv6)
      // The forwarder's "net unreachable" replies come from the lease network address, which
      // is flannel0's own: without accept_local the kernel drops them as martians (stock
      // flanneld never set it, so its replies never arrived).
      allowLocalSource(on: tun.name)
      let snapshot = state.withLock { s -> RouteSnapshot in
        s.workers = workers
        s.lease = ownLease
        if context.network.enableIPv4 {
          s.routes.remove(
            network: ownLease.subnet.address.value, prefixLength: ownLease.subnet.prefixLength)
        }
        if let own6 = ownLease.ipv6Subnet { s.routes6[own6] = nil }
        s.generation += 1
        return forwarderTable(of: s)
      }
      workers.update(routes: snapshot)
      try workers.start()
      logNewNotices(of: workers)
      state.withLock { $0.noticePoller = pollNotices(of: workers) }
      context.logger.info("\(Self.workersLine(workers, count.reason, port: port))")
      if let steeringError = workers.steeringError {
        context.logger.warning(
          "udp backend: cannot steer datagrams to workers by inner flow (\(steeringError)); the kernel spreads them by the peers' source ports only"
        )
      }
      let active = workers.offloads
      context.logger.info(
        "udp backend: TUN offloads \(active.intersection(.tunSide).description), socket offloads \(active.subtracting(.tunSide).description)"
      )
      let features = workers.ioUringFeatures
      context.logger.info(
        "udp backend: io_uring with \(features.isEmpty ? "no optional feature" : features.joined(separator: ", ")); checksums \(Checksum.usesAVX2 ? "with AVX2" : "without AVX2 (the CPU has none)")"
      )
      let anySource = context.udp.acceptAnySource ? ", accepting datagrams from any source" : ""
      if ipv4 != nil {
        context.logger.info(
          "udp backend: \(tun.name) \(ownLease.subnet.address)/32 MTU \(mtu), route \(context.network.network) dev \(tun.name), UDP \(context.external.address):\(port)\(anySource)"
        )
      }
      if let ipv6 {
        let over =
          underlay == .ipv4
          ? "its PublicIP over UDP"
          : "its PublicIPv6 over UDP from [\(context.external.ipv6Address.map { "\($0)" } ?? "?")]:\(port) (IPv6-only network: IPv6 underlay, MTU \(mtu))\(anySource)"
        context.logger.info(
          "udp backend: IPv6 inner packets: \(tun.name) \(ipv6.lease.address)/128, route \(ipv6.network) dev \(tun.name), each lease's IPv6 subnet to \(over)"
        )
      }
    } catch {
      state.withLock { s in
        if s.workers === workers { s.workers = nil }
      }
      workers.stop()
      workers.close()
      throw error
    }
  }

  /// "udp backend: N workers (why)", and with several how they share the TUN and the port.
  static func workersLine(_ workers: UDPWorkers, _ reason: String, port: Int) -> String {
    let count = workers.forwarders.count
    guard count > 1 else { return "udp backend: 1 worker (\(reason)), single TUN queue" }
    let ports = workers.sendPorts.map(String.init).joined(separator: ", ")
    let steering = workers.steeringError == nil ? " (steered by inner flow)" : ""
    return
      "udp backend: \(count) workers (\(reason)): \(workers.device.name) with \(count) queues, UDP port \(port) shared with SO_REUSEPORT\(steering), sending from ports \(ports)"
  }

  /// Offload notices the forwarders added since the last call, as warnings (once each).
  func logNewNotices(of workers: UDPWorkers) {
    for notice in workers.newNotices() { context.logger.warning("udp backend: \(notice)") }
  }

  /// Polls for run-time offload notices once a second until cancelled (in `stop` or the
  /// next `configure`); the forwarders only append to a list, off the packet path.
  func pollNotices(of workers: UDPWorkers) -> Task<Void, Never> {
    Task { [weak self] in
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(1))
        guard let self else { return }
        self.logNewNotices(of: workers)
      }
    }
  }

  /// Applies the events to the route table and hands the forwarders a new snapshot (built
  /// from the routes in order: no sort, O(N) copies).
  public func apply(_ update: LeaseUpdate) async {
    let (workers, snapshot) = state.withLock { s -> (UDPWorkers?, RouteSnapshot?) in
      var changed = false
      for event in update.events {
        let subnet = event.lease.subnet
        switch event {
        // An IPv6-only network's leases all have the IPv4 part 0.0.0.0/0: compare both.
        case .added(let lease) where lease.subnets != s.lease?.subnets:
          if context.network.enableIPv4 {
            changed = s.routes.upsert(route(for: lease)) || changed
          }
          if let (subnet6, route6) = ipv6Route(for: lease), s.routes6[subnet6] != route6 {
            s.routes6[subnet6] = route6
            changed = true
          }
        case .added:
          continue
        case .removed(let lease):
          if context.network.enableIPv4 {
            changed =
              s.routes.remove(network: subnet.address.value, prefixLength: subnet.prefixLength)
              || changed
          }
          if let subnet6 = lease.ipv6Subnet, s.routes6.removeValue(forKey: subnet6) != nil {
            changed = true
          }
        }
      }
      guard changed || update.reconcile, let workers = s.workers else { return (nil, nil) }
      s.generation += 1
      return (workers, forwarderTable(of: s))
    }
    if let workers, let snapshot { workers.update(routes: snapshot) }
  }

  /// Stops the forwarders; flannel0 goes with its file descriptors, as with stock.
  public func stop() async {
    let (workers, poller) = state.withLock { s in
      defer { (s.workers, s.noticePoller) = (nil, nil) }
      return (s.workers, s.noticePoller)
    }
    poller?.cancel()
    guard let workers else { return }
    workers.stop()
    logNewNotices(of: workers)
    workers.close()
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

  /// The forwarders' table: the IPv4 routes in order, and the IPv6 ones (few leases change at
  /// once; the IPv6 table sorts its routes, O(N log N) per snapshot).
  func forwarderTable(of state: State) -> RouteSnapshot {
    guard !state.routes6.isEmpty else { return RouteSnapshot(state.routes) }
    return RouteSnapshot(state.routes, ipv6: IPv6RouteTable(Array(state.routes6.values)))
  }

  /// On a dual-stack network, a lease's IPv6 subnet (inside the IPv6Network) → its PublicIP on
  /// our port; on an IPv6-only one → its PublicIPv6; nil otherwise.
  func ipv6Route(for lease: Lease) -> (IPv6Network, IPv6ForwardingRoute)? {
    guard let network = context.network.ipv6?.network, let subnet = lease.ipv6Subnet,
      network.contains(subnet), let nextHop = underlay.nextHop(for: lease)
    else { return nil }
    return (
      subnet,
      IPv6ForwardingRoute(
        high: subnet.address.high, low: subnet.address.low, prefixLength: subnet.prefixLength,
        underlay: nextHop, port: UInt16(port))
    )
  }

  func route(for lease: Lease) -> DataPlane.Route {
    DataPlane.Route(
      network: lease.subnet.address.value, prefixLength: lease.subnet.prefixLength,
      nextHop: lease.attrs.publicIP.value, port: UInt16(port))
  }
}
