import FlannelCore
import Logging
import Netlink
import SubnetManager

/// The host-gw backend (flannel-behaviour §6): one route `subnet via PublicIP dev <external
/// interface>` per remote node, no encapsulation; on a dual-stack network (EnableIPv6) also
/// `<IPv6 subnet> via <PublicIPv6> dev <external interface>`. Routes are kept in line with
/// the lease table on every update and every 10 s (restoring any that went missing); stop
/// leaves them.
public actor HostGWBackend: Backend {
  private let context: BackendContext
  private let socket: NetlinkSocket
  /// Routes through nexthop objects when the kernel has them (`Nexthop` says why).
  private let nexthops: Bool
  private var logger: Logger { context.logger }
  /// The routes each remote host-gw lease asks for, by subnet.
  private var routes = PeerIndex<LeaseSubnets, HostGWPeer>()
  /// False until the first update: reconciling against an empty table would delete the
  /// routes a previous run left (the restart must not change a single one).
  private var synced = false
  private var remote = RemoteLeases(backendType: "host-gw")
  private var stopped = false
  private var loop: Task<Void, Never>?

  public static let routeCheckInterval: Duration = .seconds(10)

  /// Opens a netlink socket in the caller's namespace.
  public init(context: BackendContext) throws {
    self.context = context
    self.socket = try NetlinkSocket()
    self.nexthops = context.routeNexthops && socket.supportsNexthops
  }

  /// Refuses a public IP behind NAT, with stock's explanation.
  public func prepare() async throws -> BackendLeaseAttributes {
    guard context.external.publicIP == context.external.address else {
      throw HostGWBackendError(
        "your PublicIP differs from interface IP, meaning that probably you're on a NAT, "
          + "which is not supported by host-gw backend")
    }
    logger.info(
      "host-gw: \(nexthops ? "routes through one nexthop object per lease" : "plain routes (the kernel has no nexthop objects)")"
    )
    if let ipv6 = context.network.ipv6 {
      guard let publicIPv6 = context.external.publicIPv6 else {
        throw HostGWBackendError(
          "EnableIPv6 is set (IPv6Network \(ipv6.network)), but this node has no IPv6 address "
            + "to advertise; give the external interface one or set -public-ipv6")
      }
      if let address = context.external.ipv6Address, address != publicIPv6 {
        // Stock checks the IPv4 addresses only; a differing IPv6 one is as unreachable.
        logger.warning(
          "your PublicIPv6 \(publicIPv6) differs from the interface's IPv6 address \(address): other nodes route to it directly (host-gw does not support NAT)"
        )
      }
      logger.info("host-gw: IPv6 routes via each peer's PublicIPv6 inside \(ipv6.network)")
    }
    return BackendLeaseAttributes(
      backendType: "host-gw", backendData: nil, mtu: context.external.mtu)
  }

  public func configure(ownLease: Lease) async throws {
    remote.own = ownLease.subnets
    _ = routes.remove(ownLease)
    sync()
    if loop == nil {
      loop = periodicTask(every: Self.routeCheckInterval) { [weak self] in await self?.sync() }
    }
  }

  /// Each event changes only its own subnet's route; the first update and a re-list after
  /// lost history reconcile the whole table against the kernel.
  public func apply(_ update: LeaseUpdate) async {
    var changes: [PeerIndex<LeaseSubnets, HostGWPeer>.Change] = []
    for event in update.events {
      if let change = routes.apply(event, make: peer(for:)) { changes.append(change) }
    }
    if update.reconcile || !synced {
      synced = true
      sync()
    } else if !changes.isEmpty && !stopped {
      let ipv4 = changes.compactMap(\.ipv4)
      if !ipv4.isEmpty { routeSync.applyDelta(ipv4) }
      let ipv6 = changes.compactMap(\.ipv6)
      if !ipv6.isEmpty { ipv6RouteSync?.applyDelta(ipv6) }
    }
  }

  /// Programs the routes for `table` as a whole (ours and other types are skipped), as a
  /// first update or a re-list does: for callers that hold a table (the tests' probe).
  public func apply(table: LeaseTable) {
    routes = PeerIndex()
    for lease in table.leases { _ = routes.apply(.added(lease), make: peer(for:)) }
    synced = true
    sync()
  }

  public func stop() async {
    loop?.cancel()
    loop = nil
    stopped = true
  }

  /// `subnet via PublicIP dev <external interface>`, and on a dual-stack network the IPv6
  /// route of a lease that has an IPv6 subnet and a PublicIPv6 (a peer without them is
  /// reached over IPv4 only); nil when not a remote host-gw lease.
  private func peer(for lease: Lease) -> HostGWPeer? {
    guard remote.accepts(lease, logger: logger) else { return nil }
    var route: Route? = nil
    if context.network.enableIPv4 && !lease.subnets.ipv4IsEmpty {
      route = Route(
        destination: lease.subnet, gateway: lease.attrs.publicIP,
        outputIndex: context.external.index,
        nexthopID: nexthops && lease.subnet.address.value != 0 ? lease.subnet.address.value : nil)
    }
    var ipv6Route: IPv6Route? = nil
    if let network = context.network.ipv6?.network, let subnet = lease.ipv6Subnet,
      let gateway = lease.attrs.publicIPv6, network.contains(subnet)
    {
      ipv6Route = IPv6Route(
        destination: subnet, gateway: gateway, outputIndex: context.external.index)
    }
    guard route != nil || ipv6Route != nil else { return nil }
    return HostGWPeer(route: route, ipv6Route: ipv6Route)
  }

  private var routeSync: HostGWRouteSync<HostGWIPv4> {
    HostGWRouteSync(
      socket: socket, externalIndex: context.external.index, network: context.network.network,
      nexthops: nexthops, logger: logger)
  }

  /// Nil on an IPv4 network.
  private var ipv6RouteSync: HostGWRouteSync<HostGWIPv6>? {
    context.network.ipv6.map {
      HostGWRouteSync(
        socket: socket, externalIndex: context.external.index, network: $0.network,
        nexthops: false, logger: logger)
    }
  }

  /// The full reconcile (also the 10 s check that restores routes somebody deleted).
  private func sync() {
    guard synced, !stopped else { return }
    if context.network.enableIPv4 {
      var wanted: [IPv4Network: Route] = [:]
      for peer in routes.peers.values {
        if let route = peer.route { wanted[route.destination] = route }
      }
      routeSync.reconcile(wanted)
    }
    if let ipv6RouteSync {
      var wanted: [IPv6Network: IPv6Route] = [:]
      for peer in routes.peers.values {
        if let route = peer.ipv6Route { wanted[route.destination] = route }
      }
      ipv6RouteSync.reconcile(wanted)
    }
  }
}

public struct HostGWBackendError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
