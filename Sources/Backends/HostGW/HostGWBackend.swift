import FlannelCore
import Logging
import Netlink
import SubnetManager

/// The host-gw backend (flannel-behaviour §6): one route `subnet via PublicIP dev <external
/// interface>` per remote node, no encapsulation. Routes are kept in line with the lease
/// table on every update and every 10 s (restoring any that went missing); stop leaves them.
public actor HostGWBackend: Backend {
  private let context: BackendContext
  private let socket: NetlinkSocket
  /// Routes through nexthop objects when the kernel has them (`Nexthop` says why).
  private let nexthops: Bool
  private var logger: Logger { context.logger }
  /// The route each remote host-gw lease asks for, by subnet.
  private var routes = PeerIndex<Route>()
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
    return BackendLeaseAttributes(
      backendType: "host-gw", backendData: nil, mtu: context.external.mtu)
  }

  public func configure(ownLease: Lease) async throws {
    remote.ownSubnet = ownLease.subnet
    _ = routes.remove(ownLease.subnet)
    sync()
    if loop == nil {
      loop = periodicTask(every: Self.routeCheckInterval) { [weak self] in await self?.sync() }
    }
  }

  /// Each event changes only its own subnet's route; the first update and a re-list after
  /// lost history reconcile the whole table against the kernel.
  public func apply(_ update: LeaseUpdate) async {
    var changes: [PeerIndex<Route>.Change] = []
    for event in update.events {
      if let change = routes.apply(event, make: route(for:)) { changes.append(change) }
    }
    if update.reconcile || !synced {
      synced = true
      sync()
    } else if !changes.isEmpty && !stopped {
      routeSync.applyDelta(changes)
    }
  }

  /// Programs the routes for `table` as a whole (ours and other types are skipped), as a
  /// first update or a re-list does: for callers that hold a table (the tests' probe).
  public func apply(table: LeaseTable) {
    routes = PeerIndex()
    for lease in table.leases { _ = routes.apply(.added(lease), make: route(for:)) }
    synced = true
    sync()
  }

  public func stop() async {
    loop?.cancel()
    loop = nil
    stopped = true
  }

  /// `subnet via PublicIP dev <external interface>`; nil when not a remote host-gw lease.
  private func route(for lease: Lease) -> Route? {
    guard remote.accepts(lease, logger: logger) else { return nil }
    return Route(
      destination: lease.subnet, gateway: lease.attrs.publicIP,
      outputIndex: context.external.index,
      nexthopID: nexthops ? lease.subnet.address.value : nil)
  }

  private var routeSync: HostGWRouteSync {
    HostGWRouteSync(
      socket: socket, externalIndex: context.external.index, network: context.network.network,
      nexthops: nexthops, logger: logger)
  }

  /// The full reconcile (also the 10 s check that restores routes somebody deleted).
  private func sync() {
    guard synced, !stopped else { return }
    routeSync.reconcile(routes.peers)
  }
}

public struct HostGWBackendError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
