import FlannelCore
import Logging
import Netlink
import SubnetManager

/// The vxlan backend (stock ≥ v0.9 with HEAD's explicit device MTU): the kernel moves the
/// packets; this actor keeps `flannel.<VNI>`, its `/32` address and one neighbour, one FDB
/// entry and one route per remote node in line with the lease table. Kernel state is never
/// removed on stop, so a restarted daemon takes it over unchanged.
public actor VXLANBackend: Backend {
  private let context: BackendContext
  private let options: VXLANOptions
  private let socket: NetlinkSocket
  private var logger: Logger { context.logger }

  /// The MAC published in our lease; a recreated device gets it again.
  private var vtepMAC: MACAddress?
  private var deviceIndex: Int?
  private var ownLease: Lease?
  /// nil until the first update: reconciling against an empty table would delete every
  /// entry a previous run left (the restart must not change a single one).
  private var table: LeaseTable?
  private var remote = RemoteLeases(backendType: "vxlan")
  /// Subnets whose entries failed; the retry loop tries again while it is not empty.
  private var failed: Set<IPv4Network> = []
  private var monitor: LinkDeletionMonitor?
  private var loops: [Task<Void, Never>] = []
  private var recreating = false
  private var stopped = false

  static let retryInterval: Duration = .seconds(5)

  /// Reads the Backend options and opens a netlink socket in the caller's namespace.
  public init(context: BackendContext) throws {
    self.context = context
    self.options = try VXLANOptions(context.network.backend, portOverride: context.portOverride)
    self.socket = try NetlinkSocket()
  }

  public var deviceName: String { options.deviceName }

  /// MTU of the device and FLANNEL_MTU: (Backend.MTU or the external MTU) − 50.
  public var mtu: Int { (options.mtu ?? context.external.mtu) - 50 }

  public func prepare() async throws -> BackendLeaseAttributes {
    let link = try ensureDevice()
    startMonitor()
    return BackendLeaseAttributes(
      backendType: "vxlan",
      backendData: .object([
        JSONMember("VNI", .int(Int64(options.vni))),
        JSONMember("VtepMAC", .string(link.mac?.description ?? "")),
      ]),
      mtu: mtu)
  }

  public func configure(ownLease: Lease) async throws {
    self.ownLease = ownLease
    guard let device = deviceIndex else { throw VXLANBackendError("configure before prepare") }
    try ensureAddress(device: device, lease: ownLease)
    sync()
    if loops.isEmpty {
      loops.append(periodicTask(every: Self.retryInterval) { [weak self] in await self?.retry() })
    }
  }

  public func apply(_ update: LeaseUpdate) async {
    if update.ownLeaseChanged, let own = update.ownLease, own.subnet != ownLease?.subnet {
      do { try await configure(ownLease: own) } catch { logger.error("\(error)") }
    }
    apply(table: update.table)
  }

  /// Programs the kernel for `table` (all leases; ours and other types are skipped). The
  /// same as `apply(_:)` without a LeaseUpdate, for callers that hold a table.
  public func apply(table: LeaseTable) {
    self.table = table
    sync()
  }

  public func stop() async {
    stopped = true
    monitor?.stop()
    monitor = nil
    for loop in loops { loop.cancel() }
    loops = []
  }

  // MARK: - device

  /// Reuses a compatible `flannel.<VNI>`, recreates an incompatible one, creates a missing
  /// one; then sets the MTU and brings it up — each only when it differs.
  private func ensureDevice() throws -> Link {
    let external = context.external
    let wanted = VXLANAttributes(
      vni: options.vni, local: external.address, port: options.port,
      linkIndex: external.index, learning: options.learning, gbp: options.gbp)
    var link = try socket.link(named: deviceName)
    if let existing = link, let reason = vxlanIncompatibility(existing: existing, wanted: wanted) {
      logger.warning(
        "\(deviceName) already exists with incompatible configuration: \(reason); recreating device"
      )
      try socket.deleteLink(index: existing.index)
      link = nil
    }
    if link == nil {
      var generator = SystemRandomNumberGenerator()
      let mac = vtepMAC ?? MACAddress.randomLocallyAdministered(using: &generator)
      link = try socket.createVXLAN(
        VXLANLinkSpec(name: deviceName, attributes: wanted, mtu: mtu, mac: mac))
      logger.info("Created \(deviceName) (VNI \(options.vni), VtepMAC \(mac))")
    }
    guard var device = link else { throw VXLANBackendError("\(deviceName) vanished") }
    if device.mtu != mtu {
      try socket.setMTU(index: device.index, mtu)
      device.mtu = mtu
    }
    if !device.isUp { try socket.setUp(index: device.index) }
    deviceIndex = device.index
    vtepMAC = device.mac
    return device
  }

  /// `<lease network>/32` on the device; other addresses inside the Network removed.
  private func ensureAddress(device: Int, lease: Lease) throws {
    let wanted = InterfaceAddress(
      linkIndex: device, address: lease.subnet.address, prefixLength: 32)
    let present = try socket.addresses(linkIndex: device)
    for address in present
    where address != wanted && context.network.network.contains(address.address) {
      logger.info("Removing stale address \(address) from \(deviceName)")
      try socket.deleteAddress(address)
    }
    if !present.contains(wanted) { try socket.addAddress(wanted) }
  }

  // MARK: - entries

  private func sync() {
    guard let device = deviceIndex, let table, !stopped else { return }
    let peers = remote.select(table, own: ownLease?.subnet, logger: logger).compactMap { lease in
      guard var peer = VXLANPeer(lease) else {
        logger.warning("Ignoring subnet \(lease.subnet): no VtepMAC in its BackendData")
        return nil as VXLANPeer?
      }
      peer.direct = options.directRouting && isOnLink(peer.publicIP)
      return peer
    }
    failed = VXLANReconciler(
      socket: socket, device: device, deviceName: deviceName, network: context.network.network,
      directRouting: options.directRouting, logger: logger
    ).sync(peers)
  }

  /// DirectRouting: the peer is reachable without a gateway (same L2 network).
  private func isOnLink(_ ip: IPv4Address) -> Bool {
    guard let route = try? socket.routeGet(ip) else { return false }
    return route.gateway == nil && route.outputIndex != deviceIndex
  }

  private func retry() {
    if !failed.isEmpty && !recreating { sync() }
  }

  // MARK: - device deleted by someone

  private func startMonitor() {
    guard monitor == nil else { return }
    do {
      monitor = try LinkDeletionMonitor { [weak self] event in
        guard let self else { return }
        Task { await self.linkEvent(event) }
      }
    } catch {
      logger.error("Cannot watch for deletion of \(deviceName): \(error)")
    }
  }

  private func linkEvent(_ event: LinkMonitorEvent) async {
    switch event {
    case .deleted(_, let name) where name == deviceName: break
    case .overrun: break
    default: return
    }
    guard !recreating, !stopped, (try? socket.link(named: deviceName)) == .some(nil) else { return }
    recreating = true
    defer { recreating = false }
    logger.warning("\(deviceName) was deleted; recreating it")
    var delay: Duration = .seconds(1)
    while !stopped {
      do {
        let link = try ensureDevice()
        if let own = ownLease { try ensureAddress(device: link.index, lease: own) }
        sync()
        logger.info("Recreated \(deviceName) with its entries")
        return
      } catch {
        logger.error("Recreating \(deviceName) failed, retrying in \(delay): \(error)")
      }
      try? await Task.sleep(for: delay)
      delay = min(delay * 2, .seconds(30))
    }
  }
}

public struct VXLANBackendError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
