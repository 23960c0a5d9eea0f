import FlannelCore
import Logging
import Netlink

/// Brings the kernel's entries on `flannel.<VNI>` in line with all remote peers: removes
/// entries of leases that are gone, adds what is missing, and leaves correct entries
/// untouched so that a restart or a resync never flaps a working path. The kernel's state is
/// read once and indexed by destination; the changes go out as one netlink batch.
struct VXLANReconciler {
  let socket: NetlinkSocket
  let device: Int
  let deviceName: String
  /// Direct routes are ours only inside the flannel Network and only with DirectRouting.
  let network: IPv4Network
  let directRouting: Bool
  /// Routes through nexthop objects (else plain routes).
  let nexthops: Bool
  let logger: Logger

  private struct FDBKey: Hashable {
    let mac: MACAddress
    let destination: IPv4Address?
  }

  /// Returns the subnets whose entries could not be installed (to retry later).
  func sync(_ peers: [IPv4Network: VXLANPeer]) -> Set<IPv4Network> {
    let started = ContinuousClock.now
    let routes: [Route]
    let neighbours: [Neighbour]
    let fdb: [FDBEntry]
    let objects: [Nexthop]
    do {
      routes = try socket.routes()
      objects = nexthops ? try socket.nexthops() : []
      neighbours = try socket.neighbours(linkIndex: device).filter(\.isPermanent)
      fdb = try socket.fdbEntries(linkIndex: device).filter { $0.destination != nil }
    } catch {
      logger.error("Failed to read the kernel state of \(deviceName): \(error)")
      return Set(peers.keys)
    }
    let read = ContinuousClock.now
    var routesByDestination: [IPv4Network: [Route]] = [:]
    for route in routes { routesByDestination[route.destination, default: []].append(route) }
    let neighbourMACs = Dictionary(
      neighbours.map { ($0.ip, $0.mac) }, uniquingKeysWith: { first, _ in first })
    let fdbPairs = Set(fdb.map { FDBKey(mac: $0.mac, destination: $0.destination) })

    let changes = VXLANPeerChanges(socket: socket, device: device, nexthops: nexthops)
    var installed: [VXLANPeer] = []
    let batch = socket.batch { (batch: NetlinkBatch<VXLANEntryTag>) in
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
      .settle(installing: installed, peers: peers)
    let done = ContinuousClock.now
    VXLANBatchOutcome.logInstalled(
      installed, failed: failed, logger: logger,
      timing:
        " in \(done - started) (kernel state of \(routes.count) routes, \(neighbours.count) neighbours, \(fdb.count) FDB entries read in \(read - started); \(batch.sent) changes sent)"
    )
    return failed
  }

  /// Deletes what belongs to no current peer. Each failure is only logged.
  private func removeStale(
    _ peers: [IPv4Network: VXLANPeer], routes: [Route], neighbours: [Neighbour],
    fdb: [FDBEntry], into batch: NetlinkBatch<VXLANEntryTag>
  ) {
    for route in routes where isOurs(route) {
      if let peer = peers[route.destination], matches(route, peer) { continue }
      batch.add(socket.deleteRouteChange(route), tag: .removal(nil))
    }
    var wantedNeighbours: Set<IPv4Address> = []
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

  /// Nexthop objects with an id of ours (an address inside the Network, `VXLANPeer.nexthopID`)
  /// that no peer uses (a lease gone while we were not running).
  private func removeStale(
    _ peers: [IPv4Network: VXLANPeer], nexthops: [Nexthop], into batch: NetlinkBatch<VXLANEntryTag>
  ) {
    guard !nexthops.isEmpty else { return }
    let wanted = Set(peers.values.filter { !$0.direct }.map(\.nexthopID))
    for object in nexthops
    where network.contains(IPv4Address(object.id)) && !wanted.contains(object.id) {
      batch.add(socket.deleteNexthopChange(id: object.id), tag: .removal(nil))
    }
  }

  private func isOurs(_ route: Route) -> Bool {
    if route.outputIndex == device { return true }
    return directRouting && route.gateway != nil && network.contains(route.destination)
  }

  private func matches(_ route: Route, _ peer: VXLANPeer) -> Bool {
    // Either form (plain route or through a nexthop object) forwards the same: a route left
    // by stock flanneld or an older version is kept, not flapped.
    if peer.direct { return route.gateway == peer.publicIP && route.outputIndex != device }
    return route.gateway == peer.gatewayAddress && route.outputIndex == device && route.onlink
  }
}
