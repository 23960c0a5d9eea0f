import FlannelCore
import Logging
import Netlink

/// Brings the kernel's entries on `flannel.<VNI>` (or `flannel-v6.<VNI>`, the same over
/// `Family`) in line with all remote peers: removes
/// entries of leases that are gone, adds what is missing, and leaves correct entries
/// untouched so that a restart or a resync never flaps a working path. The kernel's state is
/// read once and indexed by destination; the changes go out as one netlink batch.
struct VXLANReconciler<Family: VXLANFamily> {
  typealias Peer = VXLANPeer<Family>
  typealias Tag = VXLANEntryTag<Family.Subnet>
  let socket: NetlinkSocket
  let device: Int
  let deviceName: String
  /// Direct routes are ours only inside the flannel Network and only with DirectRouting.
  let network: Family.Subnet
  let directRouting: Bool
  /// Routes through nexthop objects (else plain routes).
  let nexthops: Bool
  /// Current peers per FDB entry (`VXLANPeerChanges.fdbUsers`).
  let fdbUsers: [Peer.FDBKey: Int]
  let logger: Logger

  private typealias FDBKey = Peer.FDBKey

  /// Returns the subnets whose entries could not be installed (to retry later).
  func sync(_ peers: [Family.Subnet: Peer]) -> Set<Family.Subnet> {
    let started = ContinuousClock.now
    let routes: [Family.KernelRoute]
    let neighbours: [NeighbourEntry<Family.Address>]
    let fdb: [BridgeFDBEntry<Family.Address>]
    let objects: [Nexthop]
    do {
      routes = try Family.KernelRoute.all(socket)
      objects = nexthops ? try socket.nexthops() : []
      neighbours = try socket.neighbours(linkIndex: device, of: Family.Address.self)
        .filter(\.isPermanent)
      fdb = try socket.fdbEntries(linkIndex: device, of: Family.Address.self)
        .filter { $0.destination != nil }
    } catch {
      logger.error("Failed to read the kernel state of \(deviceName): \(error)")
      return Set(peers.keys)
    }
    let read = ContinuousClock.now
    var routesByDestination: [Family.Subnet: [Family.KernelRoute]] = [:]
    for route in routes {
      routesByDestination[route.destination, default: []].append(route)
    }
    let neighbourMACs = Dictionary(
      neighbours.map { ($0.ip, $0.mac) }, uniquingKeysWith: { first, _ in first })
    let fdbPairs = Set(fdb.map { FDBKey(mac: $0.mac, destination: $0.destination) })

    let changes = VXLANPeerChanges(
      socket: socket, device: device, nexthops: nexthops, fdbUsers: fdbUsers)
    var installed: [Peer] = []
    let batch = socket.batch { (batch: NetlinkBatch<Tag>) in
      removeStale(peers, routes: routes, neighbours: neighbours, fdb: fdb, into: batch)
      removeStale(peers, nexthops: objects, into: batch)
      for peer in peers.values {
        let current = routesByDestination[peer.subnet] ?? []
        let routeOK = current.count == 1 && matches(current[0], peer)
        let neighbourOK = peer.direct || neighbourMACs[peer.gatewayAddress] == .some(peer.vtepMAC)
        let fdbOK =
          peer.direct || fdbPairs.contains(FDBKey(mac: peer.vtepMAC, destination: peer.publicIP))
        guard !(routeOK && neighbourOK && fdbOK) else { continue }
        changes.install(peer, into: batch)
        installed.append(peer)
      }
    }
    let failed = VXLANBatchOutcome(batch: batch, changes: changes, logger: logger)
      .settle(installing: installed)
    let done = ContinuousClock.now
    VXLANBatchOutcome.logInstalled(
      installed, failed: failed, logger: logger,
      timing:
        " in \(done - started) (kernel state of \(deviceName): \(routes.count) routes, \(neighbours.count) neighbours, \(fdb.count) FDB entries read in \(read - started); \(batch.sent) changes sent)"
    )
    return failed
  }

  /// Deletes what belongs to no current peer. Each failure is only logged.
  private func removeStale(
    _ peers: [Family.Subnet: Peer], routes: [Family.KernelRoute],
    neighbours: [NeighbourEntry<Family.Address>], fdb: [BridgeFDBEntry<Family.Address>],
    into batch: NetlinkBatch<Tag>
  ) {
    for route in routes where isOurs(route) {
      if let peer = peers[route.destination], matches(route, peer) { continue }
      batch.add(route.deleteChange(socket), tag: .removal(nil))
    }
    var wantedNeighbours: Set<Family.Address> = []
    var wantedFDB: Set<FDBKey> = []
    for peer in peers.values where !peer.direct {
      wantedNeighbours.insert(peer.gatewayAddress)
      wantedFDB.insert(FDBKey(mac: peer.vtepMAC, destination: peer.publicIP))
    }
    for neighbour in neighbours where !wantedNeighbours.contains(neighbour.ip) {
      batch.add(
        socket.deleteNeighbourChange(ip: neighbour.ip, linkIndex: device), tag: .removal(nil))
    }
    for entry in fdb
    where !wantedFDB.contains(FDBKey(mac: entry.mac, destination: entry.destination)) {
      batch.add(socket.deleteFDBChange(entry), tag: .removal(nil))
    }
  }

  /// Nexthop objects of ours (`VXLANFamily.isOurs`) that no peer uses (a lease gone while
  /// we were not running).
  private func removeStale(
    _ peers: [Family.Subnet: Peer], nexthops: [Nexthop], into batch: NetlinkBatch<Tag>
  ) {
    guard !nexthops.isEmpty else { return }
    let wanted = Set(peers.values.filter { !$0.direct }.compactMap(\.nexthopID))
    for object in nexthops
    where Family.isOurs(object, network: network, device: device) && !wanted.contains(object.id) {
      batch.add(socket.deleteNexthopChange(id: object.id), tag: .removal(nil))
    }
  }

  private func isOurs(_ route: Family.KernelRoute) -> Bool {
    if route.outputIndex == device { return true }
    return directRouting && route.gateway != nil
      && Family.contains(network, route.destination)
  }

  private func matches(_ route: Family.KernelRoute, _ peer: Peer) -> Bool {
    // Either form (plain route or through a nexthop object) forwards the same: a route left
    // by stock flanneld or an older version is kept, not flapped.
    let gateway = route.gateway
    let output = route.outputIndex
    if peer.direct { return gateway == peer.publicIP && output != device }
    return gateway == peer.gatewayAddress && output == device && route.onlink
  }
}
