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
  /// Routes through nexthop objects when the kernel has them (`Nexthop` says why).
  private let nexthops: Bool
  private var logger: Logger { context.logger }

  /// The MAC published in our lease; a recreated device gets it again.
  private var vtepMAC: MACAddress?
  private var deviceIndex: Int?
  private var ownLease: Lease?
  /// The peers the lease table asks for, by subnet; the kernel follows it.
  private var peers = PeerIndex<VXLANPeer<VXLANIPv4>>()
  /// How many peers use each FDB entry (kept with `peers`).
  private var fdbUsers: [VXLANPeer<VXLANIPv4>.FDBKey: Int] = [:]
  /// False until the first update: reconciling against an empty table would delete every
  /// entry a previous run left (the restart must not change a single one).
  private var synced = false
  private var remote = RemoteLeases(backendType: "vxlan")
  /// Subnets whose entries failed; the retry loop tries again while it is not empty.
  private var failed: Set<IPv4Network> = []
  private var monitor: LinkDeletionMonitor?
  private var loops: [Task<Void, Never>] = []
  private var recreating = false
  private var stopped = false

  static let retryInterval: Duration = .seconds(5)
  /// The slow full reconcile that repairs entries somebody else deleted or changed; events
  /// touch only their own subnet's entries in between.
  static let resyncInterval: Duration = .seconds(300)

  /// Reads the Backend options and opens a netlink socket in the caller's namespace.
  public init(context: BackendContext) throws {
    self.context = context
    self.options = try VXLANOptions(context.network.backend, portOverride: context.portOverride)
    self.socket = try NetlinkSocket()
    self.nexthops = context.routeNexthops && socket.supportsNexthops
  }

  public var deviceName: String { options.deviceName }

  /// MTU of the device and FLANNEL_MTU: (Backend.MTU or the external MTU) − 50.
  public var mtu: Int { (options.mtu ?? context.external.mtu) - 50 }

  public func prepare() async throws -> BackendLeaseAttributes {
    let link = try ensureDevice()
    startMonitor()
    logger.info(
      "vxlan: \(nexthops ? "routes through one nexthop object per lease" : "plain routes (the kernel has no nexthop objects)")"
    )
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
    remote.ownSubnet = ownLease.subnet
    count(peers.remove(ownLease.subnet), -1)
    guard let device = deviceIndex else { throw VXLANBackendError("configure before prepare") }
    try ensureAddress(device: device, lease: ownLease)
    sync()
    if loops.isEmpty {
      loops.append(periodicTask(every: Self.retryInterval) { [weak self] in await self?.retry() })
      loops.append(periodicTask(every: Self.resyncInterval) { [weak self] in await self?.sync() })
    }
  }

  /// Each event changes only its own subnet's entries; the first update and a re-list after
  /// lost history reconcile the whole table against the kernel.
  public func apply(_ update: LeaseUpdate) async {
    var changes: [PeerIndex<VXLANPeer<VXLANIPv4>>.Change] = []
    for event in update.events {
      if let change = peers.apply(event, make: peer(for:)) {
        count(change.old, -1)
        count(change.new, +1)
        changes.append(change)
      }
    }
    if update.reconcile || !synced {
      synced = true
      sync()
    } else if !changes.isEmpty {
      applyDelta(changes)
    }
  }

  /// Programs the kernel for `table` as a whole (ours and other types are skipped), as a
  /// first update or a re-list does: for callers that hold a table (the tests' probe).
  public func apply(table: LeaseTable) {
    peers = PeerIndex()
    fdbUsers = [:]
    for lease in table.leases {
      count(peers.apply(.added(lease), make: peer(for:))?.new, +1)
    }
    synced = true
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

  private func count(_ peer: VXLANPeer<VXLANIPv4>?, _ delta: Int) {
    guard let peer, !peer.direct else { return }
    let users = fdbUsers[peer.fdbKey, default: 0] + delta
    fdbUsers[peer.fdbKey] = users > 0 ? users : nil
  }

  /// What `lease` becomes in the kernel; nil when it is not a usable remote vxlan lease.
  private func peer(for lease: Lease) -> VXLANPeer<VXLANIPv4>? {
    guard remote.accepts(lease, logger: logger) else { return nil }
    guard var peer = VXLANPeer(lease) else {
      logger.warning("Ignoring subnet \(lease.subnet): no VtepMAC in its BackendData")
      return nil
    }
    peer.direct = options.directRouting && isOnLink(peer.publicIP)
    return peer
  }

  /// The full reconcile: every peer against everything the kernel holds on the device.
  private func sync() {
    guard let device = deviceIndex, synced, !stopped else { return }
    failed = VXLANReconciler<VXLANIPv4>(
      socket: socket, device: device, deviceName: deviceName, network: context.network.network,
      directRouting: options.directRouting, nexthops: nexthops, fdbUsers: fdbUsers,
      logger: logger
    ).sync(peers.peers)
  }

  /// Exactly the entries of the subnets that changed, in one netlink batch.
  private func applyDelta(_ changes: [PeerIndex<VXLANPeer<VXLANIPv4>>.Change]) {
    guard let device = deviceIndex, !stopped, !recreating else { return }
    let entries = VXLANPeerChanges<VXLANIPv4>(
      socket: socket, device: device, nexthops: nexthops, fdbUsers: fdbUsers)
    var installing: [VXLANPeer<VXLANIPv4>] = []
    let batch = socket.batch { (batch: NetlinkBatch<VXLANEntryTag<IPv4Network>>) in
      for change in changes {
        if let new = change.new {
          entries.replace(change.old, with: new, into: batch)
          installing.append(new)
        } else if let old = change.old {
          entries.remove(old, into: batch)
          logger.info("Removed subnet \(old.subnet) via \(old.publicIP)")
        }
      }
    }
    let failures = VXLANBatchOutcome(batch: batch, changes: entries, logger: logger)
      .settle(installing: installing, peers: peers.peers)
    VXLANBatchOutcome.logInstalled(installing, failed: failures, logger: logger)
    failed.formUnion(failures)
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
