import FlannelCore
import Foundation
import Logging
import Netlink
import SubnetManager

/// The vxlan backend (stock ≥ v0.9 with HEAD's explicit device MTU): the kernel moves the
/// packets; this actor keeps `flannel.<VNI>`, its `/32` address and one neighbour, one FDB
/// entry and one route per remote node in line with the lease table — and on a dual-stack
/// network (EnableIPv6) the same over the IPv6 underlay on `flannel-v6.<VNI>` with its
/// `/128` address; on an IPv6-only network (`"EnableIPv4": false`) only the latter. Kernel
/// state is never removed on stop, so a restarted daemon takes it over unchanged.
public actor VXLANBackend: Backend {
  private let context: BackendContext
  private let options: VXLANOptions
  private let socket: NetlinkSocket
  /// Routes through nexthop objects when the kernel has them (`Nexthop` says why).
  private let nexthops: Bool
  private var logger: Logger { context.logger }

  /// nil on an IPv6-only network (`"EnableIPv4": false`), where stock creates no
  /// `flannel.<VNI>`.
  private var ipv4: VXLANDeviceEntries<VXLANIPv4>?
  /// nil on an IPv4 network.
  private var ipv6: VXLANDeviceEntries<VXLANIPv6>?
  private var ownLease: Lease?
  /// The peers the lease table asks for, by lease subnet; the kernel follows it.
  private var peers = PeerIndex<LeaseSubnets, VXLANLeasePeers>()
  /// False until the first update: reconciling against an empty table would delete every
  /// entry a previous run left (the restart must not change a single one).
  private var synced = false
  private var remote = RemoteLeases(backendType: "vxlan")
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
    let options = try VXLANOptions(context.network.backend, portOverride: context.portOverride)
    let socket = try NetlinkSocket()
    let nexthops = context.routeNexthops && socket.supportsNexthops
    self.ipv4 =
      context.network.enableIPv4
      ? VXLANDeviceEntries(
        deviceName: options.deviceName, network: context.network.network, nexthops: nexthops)
      : nil
    self.ipv6 = context.network.ipv6.map {
      VXLANDeviceEntries(deviceName: options.ipv6DeviceName, network: $0.network, nexthops: false)
    }
    self.context = context
    self.options = options
    self.socket = socket
    self.nexthops = nexthops
  }

  public var deviceName: String { options.deviceName }

  /// MTU of the device and FLANNEL_MTU: (Backend.MTU or the external MTU) − 50.
  public var mtu: Int { options.deviceMTU(externalMTU: context.external.mtu) }

  public func prepare() async throws -> BackendLeaseAttributes {
    logger.info(
      "VXLAN config: VNI=\(options.vni) Port=\(options.port) GBP=\(options.gbp) Learning=\(options.learning) DirectRouting=\(options.directRouting)"
    )
    let link = ipv4 == nil ? nil : try ensureIPv4Device()
    var ipv6Data: JSONValue? = nil
    if let network = context.network.ipv6?.network {
      guard context.external.publicIPv6 != nil else {
        throw VXLANBackendError(
          "EnableIPv6 is set (IPv6Network \(network)), but this node has no IPv6 address "
            + "to advertise; give the external interface one or set -public-ipv6")
      }
      ipv6Data = leaseData(mac: try ensureIPv6Device().mac)
    }
    startMonitor()
    logger.info(
      "vxlan: \(nexthops ? "routes through one nexthop object per lease" : "plain routes (the kernel has no nexthop objects)")"
    )
    return BackendLeaseAttributes(
      backendType: "vxlan", backendData: link.map { leaseData(mac: $0.mac) },
      backendV6Data: ipv6Data,
      mtu: mtu)
  }

  /// BackendData / BackendV6Data as stock writes them: `{"VNI":1,"VtepMAC":"…"}`.
  private func leaseData(mac: MACAddress?) -> JSONValue {
    .object([
      JSONMember("VNI", .int(Int64(options.vni))),
      JSONMember("VtepMAC", .string(mac?.description ?? "")),
    ])
  }

  public func configure(ownLease: Lease) async throws {
    self.ownLease = ownLease
    remote.own = ownLease.subnets
    if let own = peers.remove(ownLease) { count(own, -1) }
    try ensureAddresses(lease: ownLease)
    sync()
    if loops.isEmpty {
      loops.append(periodicTask(every: Self.retryInterval) { [weak self] in await self?.retry() })
      loops.append(periodicTask(every: Self.resyncInterval) { [weak self] in await self?.sync() })
    }
  }

  /// Each event changes only its own subnet's entries; the first update and a re-list after
  /// lost history reconcile the whole table against the kernel.
  public func apply(_ update: LeaseUpdate) async {
    var changes: [PeerIndex<LeaseSubnets, VXLANLeasePeers>.Change] = []
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
    ipv4?.fdbUsers = [:]
    ipv6?.fdbUsers = [:]
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

  // MARK: - devices

  private func ensureIPv4Device() throws -> Link {
    guard var entries = ipv4 else {
      throw VXLANBackendError("the IPv4 device of an IPv6-only network")
    }
    let external = context.external
    let link = try ensureDevice(
      name: entries.deviceName, mac: entries.vtepMAC, mtu: mtu,
      wanted: VXLANAttributes(
        vni: options.vni, local: external.address, port: options.port,
        linkIndex: external.index, learning: options.learning, gbp: options.gbp))
    entries.deviceIndex = link.index
    entries.vtepMAC = link.mac
    ipv4 = entries
    return link
  }

  /// `flannel-v6.<VNI>` over the IPv6 underlay: local = the node's PublicIPv6 (stock's
  /// ExtV6Addr), on the external interface, with the IPv4 device's VNI, port and flags.
  private func ensureIPv6Device() throws -> Link {
    guard var entries = ipv6, let local6 = context.external.publicIPv6 else {
      throw VXLANBackendError("the IPv6 device of an IPv4 network")
    }
    let external = context.external
    let link = try ensureDevice(
      name: entries.deviceName, mac: entries.vtepMAC,
      mtu: options.ipv6DeviceMTU(externalMTU: external.mtu),
      wanted: VXLANAttributes(
        vni: options.vni, local: nil, local6: local6, port: options.port,
        linkIndex: external.index, learning: options.learning, gbp: options.gbp))
    entries.deviceIndex = link.index
    entries.vtepMAC = link.mac
    ipv6 = entries
    return link
  }

  /// Reuses a compatible device, recreates an incompatible one, creates a missing one (with
  /// `mac`, the MAC it had, when it is recreated); then sets the MTU and brings it up — each
  /// only when it differs. Router advertisements are not accepted on it, as stock sets.
  private func ensureDevice(name: String, mac: MACAddress?, mtu: Int, wanted: VXLANAttributes)
    throws -> Link
  {
    var link = try socket.link(named: name)
    if let existing = link, let reason = vxlanIncompatibility(existing: existing, wanted: wanted) {
      logger.warning(
        "\(name) already exists with incompatible configuration: \(reason); recreating device")
      try socket.deleteLink(index: existing.index)
      link = nil
    }
    if link == nil {
      var generator = SystemRandomNumberGenerator()
      let mac = mac ?? MACAddress.randomLocallyAdministered(using: &generator)
      link = try socket.createVXLAN(
        VXLANLinkSpec(name: name, attributes: wanted, mtu: mtu, mac: mac))
      logger.info("Created \(name) (VNI \(options.vni), VtepMAC \(mac))")
    }
    guard var device = link else { throw VXLANBackendError("\(name) vanished") }
    if device.mtu != mtu {
      try socket.setMTU(index: device.index, mtu)
      device.mtu = mtu
    }
    if !device.isUp { try socket.setUp(index: device.index) }
    refuseRouterAdvertisements(on: name)
    return device
  }

  /// `net.ipv6.conf.<device>.accept_ra = 0`, as stock sets on its devices (a failure is
  /// ignored, as stock ignores it: the kernel may have IPv6 disabled).
  private func refuseRouterAdvertisements(on name: String) {
    try? "0".write(
      toFile: "/proc/sys/net/ipv6/conf/\(name)/accept_ra", atomically: false, encoding: .utf8)
  }

  /// `<lease network>/32` on `flannel.<VNI>` (other addresses inside the Network removed)
  /// and on a dual-stack network `<lease IPv6 network>/128` on `flannel-v6.<VNI>` (other
  /// addresses but link-local ones removed, as stock's EnsureV6AddressOnLink does).
  private func ensureAddresses(lease: Lease) throws {
    if let ipv4 {
      guard let device = ipv4.deviceIndex else {
        throw VXLANBackendError("configure before prepare")
      }
      let wanted = InterfaceAddress(
        linkIndex: device, address: lease.subnet.address, prefixLength: 32)
      let present = try socket.addresses(linkIndex: device)
      for address in present
      where address != wanted && context.network.network.contains(address.address) {
        logger.info("Removing stale address \(address) from \(ipv4.deviceName)")
        try socket.deleteAddress(address)
      }
      if !present.contains(wanted) { try socket.addAddress(wanted) }
    }
    guard let ipv6, let device6 = ipv6.deviceIndex else { return }
    guard let subnet = lease.ipv6Subnet else {
      throw VXLANBackendError(
        "failed to configure interface \(ipv6.deviceName): IPv6 is enabled but the lease has no IPv6"
      )
    }
    let wanted6 = InterfaceIPv6Address(
      linkIndex: device6, address: subnet.address, prefixLength: 128)
    let present6 = try socket.ipv6Addresses(linkIndex: device6)
    for address in present6
    where (address.address != wanted6.address || address.prefixLength != 128)
      && address.address.high >> 54 != 0x3fa  // fe80::/10, link-local: kept
    {
      logger.info("Removing stale address \(address) from \(ipv6.deviceName)")
      try socket.deleteIPv6Address(address)
    }
    if !present6.contains(where: { $0.address == wanted6.address && $0.prefixLength == 128 }) {
      try socket.addIPv6Address(wanted6)
    }
  }

  // MARK: - entries

  private func count(_ peer: VXLANLeasePeers?, _ delta: Int) {
    ipv4?.count(peer?.ipv4, delta)
    ipv6?.count(peer?.ipv6, delta)
  }

  /// What `lease` becomes in the kernel; nil when it is not a usable remote vxlan lease.
  private func peer(for lease: Lease) -> VXLANLeasePeers? {
    guard remote.accepts(lease, logger: logger) else { return nil }
    var peers = VXLANLeasePeers()
    if let ipv4 {
      if var peer = VXLANPeer<VXLANIPv4>(lease) {
        peer.direct = options.directRouting && ipv4.isOnLink(peer.publicIP, socket: socket)
        peers.ipv4 = peer
      } else {
        logger.warning("Ignoring subnet \(lease.subnet): no VtepMAC in its BackendData")
      }
    }
    if let ipv6, let subnet = lease.ipv6Subnet {
      if var peer = VXLANPeer<VXLANIPv6>(ipv6Of: lease), ipv6.network.contains(subnet) {
        peer.direct = options.directRouting && ipv6.isOnLink(peer.publicIP, socket: socket)
        peers.ipv6 = peer
      } else {
        logger.warning(
          "Ignoring v6 subnet \(subnet) of \(lease.subnets): no PublicIPv6 or VtepMAC in its BackendV6Data, or outside IPv6Network \(ipv6.network)\(ipv4 == nil ? "" : "; reached over IPv4 only")"
        )
      }
    }
    return peers.ipv4 == nil && peers.ipv6 == nil ? nil : peers
  }

  /// The full reconcile: every peer against everything the kernel holds on the devices.
  private func sync() {
    guard synced, !stopped else { return }
    let all = peers.peers.values
    ipv4?.sync(
      all.lazy.compactMap(\.ipv4), socket: socket, directRouting: options.directRouting,
      logger: logger)
    ipv6?.sync(
      all.lazy.compactMap(\.ipv6), socket: socket, directRouting: options.directRouting,
      logger: logger)
  }

  /// Exactly the entries of the subnets that changed, one netlink batch per device.
  private func applyDelta(_ changes: [PeerIndex<LeaseSubnets, VXLANLeasePeers>.Change]) {
    guard !stopped, !recreating else { return }
    ipv4?.applyDelta(changes.compactMap(\.ipv4), socket: socket, logger: logger)
    ipv6?.applyDelta(changes.compactMap(\.ipv6), socket: socket, logger: logger)
  }

  private func retry() {
    let failed = !(ipv4?.failed.isEmpty ?? true) || !(ipv6?.failed.isEmpty ?? true)
    if failed && !recreating { sync() }
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

  private func isMissing(_ name: String) -> Bool { (try? socket.link(named: name)) == .some(nil) }

  private func linkEvent(_ event: LinkMonitorEvent) async {
    switch event {
    case .deleted(_, let name) where name == ipv4?.deviceName || name == ipv6?.deviceName: break
    case .overrun: break
    default: return
    }
    let names = [ipv4?.deviceName, ipv6?.deviceName].compactMap { $0 }
    let missing = names.filter(isMissing)
    guard !recreating, !stopped, !missing.isEmpty else { return }
    recreating = true
    defer { recreating = false }
    let list = missing.joined(separator: " and ")
    logger.warning("\(list) was deleted; recreating it")
    var delay: Duration = .seconds(1)
    while !stopped {
      do {
        if ipv4 != nil { _ = try ensureIPv4Device() }
        if ipv6 != nil { _ = try ensureIPv6Device() }
        if let own = ownLease { try ensureAddresses(lease: own) }
        sync()
        logger.info("Recreated \(list) with its entries")
        return
      } catch {
        logger.error("Recreating \(list) failed, retrying in \(delay): \(error)")
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
