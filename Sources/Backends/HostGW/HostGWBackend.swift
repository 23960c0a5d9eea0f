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
  private var logger: Logger { context.logger }
  private var ownLease: Lease?
  /// nil until the first update: reconciling against an empty table would delete the
  /// routes a previous run left (the restart must not change a single one).
  private var table: LeaseTable?
  private var remote = RemoteLeases(backendType: "host-gw")
  private var stopped = false
  private var loop: Task<Void, Never>?

  public static let routeCheckInterval: Duration = .seconds(10)

  /// Opens a netlink socket in the caller's namespace.
  public init(context: BackendContext) throws {
    self.context = context
    self.socket = try NetlinkSocket()
  }

  /// Refuses a public IP behind NAT, with stock's explanation.
  public func prepare() async throws -> BackendLeaseAttributes {
    guard context.external.publicIP == context.external.address else {
      throw HostGWBackendError(
        "your PublicIP differs from interface IP, meaning that probably you're on a NAT, "
          + "which is not supported by host-gw backend")
    }
    return BackendLeaseAttributes(
      backendType: "host-gw", backendData: nil, mtu: context.external.mtu)
  }

  public func configure(ownLease: Lease) async throws {
    self.ownLease = ownLease
    sync()
    if loop == nil {
      loop = periodicTask(every: Self.routeCheckInterval) { [weak self] in await self?.sync() }
    }
  }

  public func apply(_ update: LeaseUpdate) async {
    if let own = update.ownLease { ownLease = own }
    apply(table: update.table)
  }

  /// Programs the routes for `table` (all leases; ours and other types are skipped).
  public func apply(table: LeaseTable) {
    self.table = table
    sync()
  }

  public func stop() async {
    loop?.cancel()
    loop = nil
    stopped = true
  }

  private func sync() {
    guard let table, !stopped else { return }
    let external = context.external
    let wanted = remote.select(table, own: ownLease?.subnet, logger: logger).map {
      Route(destination: $0.subnet, gateway: $0.attrs.publicIP, outputIndex: external.index)
    }
    HostGWRouteSync(
      socket: socket, externalIndex: external.index, network: context.network.network,
      logger: logger
    ).sync(wanted)
  }
}

public struct HostGWBackendError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
