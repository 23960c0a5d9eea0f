import FlannelCore
import Logging
import Netlink

/// Brings the kernel's entries on `flannel.<VNI>` in line with the remote leases: removes
/// entries of leases that are gone, adds what is missing, and leaves correct entries
/// untouched so that a restart or a resync never flaps a working path.
struct VXLANReconciler {
  let socket: NetlinkSocket
  let device: Int
  let deviceName: String
  /// Direct routes are ours only inside the flannel Network and only with DirectRouting.
  let network: IPv4Network
  let directRouting: Bool
  let logger: Logger

  private struct FDBKey: Hashable {
    let mac: MACAddress
    let destination: IPv4Address?
  }

  /// Returns the subnets whose entries could not be installed (to retry later).
  func sync(_ peers: [VXLANPeer]) -> Set<IPv4Network> {
    let routes: [Route]
    let neighbours: [Neighbour]
    let fdb: [FDBEntry]
    do {
      routes = try socket.routes()
      neighbours = try socket.neighbours(linkIndex: device).filter(\.isPermanent)
      fdb = try socket.fdbEntries(linkIndex: device).filter { $0.destination != nil }
    } catch {
      logger.error("Failed to read the kernel state of \(deviceName): \(error)")
      return Set(peers.map(\.subnet))
    }
    removeStale(peers, routes: routes, neighbours: neighbours, fdb: fdb)

    var failed: Set<IPv4Network> = []
    let neighbourMACs = Dictionary(
      neighbours.map { ($0.ip, $0.mac) }, uniquingKeysWith: { first, _ in first })
    let fdbPairs = Set(fdb.map { FDBKey(mac: $0.mac, destination: $0.destination) })
    for peer in peers {
      let current = routes.filter { $0.destination == peer.subnet }
      let routeOK = current.count == 1 && matches(current[0], peer)
      if peer.direct {
        if !routeOK && !install(peer, steps: [routeStep(peer)]) { failed.insert(peer.subnet) }
        continue
      }
      var steps: [Step] = []
      if neighbourMACs[peer.gatewayAddress] != .some(peer.vtepMAC) {
        steps.append(neighbourStep(peer))
      }
      if !fdbPairs.contains(FDBKey(mac: peer.vtepMAC, destination: peer.publicIP)) {
        steps.append(fdbStep(peer))
      }
      if !routeOK { steps.append(routeStep(peer)) }
      if !install(peer, steps: steps) { failed.insert(peer.subnet) }
    }
    return failed
  }

  /// Deletes what belongs to no current lease. Each failure is only logged.
  private func removeStale(
    _ peers: [VXLANPeer], routes: [Route], neighbours: [Neighbour], fdb: [FDBEntry]
  ) {
    let bySubnet = Dictionary(peers.map { ($0.subnet, $0) }, uniquingKeysWith: { $1 })
    for route in routes where isOurs(route) {
      if let peer = bySubnet[route.destination], matches(route, peer) { continue }
      logged("delete stale route") { try socket.deleteRoute(route) }
    }
    let encapsulated = peers.filter { !$0.direct }
    let wantedNeighbours = Set(encapsulated.map(\.gatewayAddress))
    for neighbour in neighbours where !wantedNeighbours.contains(neighbour.ip) {
      logged("delete stale neighbour") {
        try socket.deleteNeighbour(ip: neighbour.ip, linkIndex: device)
      }
    }
    let wantedFDB = Set(encapsulated.map { FDBKey(mac: $0.vtepMAC, destination: $0.publicIP) })
    for entry in fdb
    where !wantedFDB.contains(FDBKey(mac: entry.mac, destination: entry.destination)) {
      logged("delete stale fdb entry") { try socket.deleteFDB(entry) }
    }
  }

  private func isOurs(_ route: Route) -> Bool {
    if route.outputIndex == device { return true }
    return directRouting && route.gateway != nil && network.contains(route.destination)
  }

  private func matches(_ route: Route, _ peer: VXLANPeer) -> Bool {
    if peer.direct { return route.gateway == peer.publicIP && route.outputIndex != device }
    return route.gateway == peer.gatewayAddress && route.outputIndex == device && route.onlink
  }

  /// One kernel change of a lease and how to take it back.
  private struct Step {
    let apply: () throws -> Void
    let undo: () throws -> Void
  }

  private func neighbourStep(_ peer: VXLANPeer) -> Step {
    Step(
      apply: { try socket.replaceNeighbour(peer.neighbour(device: device)) },
      undo: { () throws(NetlinkError) in
        try socket.deleteNeighbour(ip: peer.gatewayAddress, linkIndex: device)
      })
  }

  private func fdbStep(_ peer: VXLANPeer) -> Step {
    Step(
      apply: { try socket.replaceFDB(peer.fdb(device: device)) },
      undo: { try socket.deleteFDB(peer.fdb(device: device)) })
  }

  private func routeStep(_ peer: VXLANPeer) -> Step {
    Step(
      apply: { try socket.replaceRoute(peer.route(device: device)) },
      undo: { try socket.deleteRoute(peer.route(device: device)) })
  }

  /// Applies the steps in order (neighbour, FDB, route: the route last so the kernel never
  /// has to resolve G); on a failure undoes the steps already taken, newest first.
  private func install(_ peer: VXLANPeer, steps: [Step]) -> Bool {
    var done: [Step] = []
    for step in steps {
      do {
        try step.apply()
        done.append(step)
      } catch {
        logger.error(
          "Failed to program subnet \(peer.subnet) (public IP \(peer.publicIP)); will retry: \(error)"
        )
        for taken in done.reversed() { logged("roll back") { try taken.undo() } }
        return false
      }
    }
    if !steps.isEmpty {
      logger.info(
        "Programmed subnet \(peer.subnet) via \(peer.publicIP)\(peer.direct ? " (direct)" : "")")
    }
    return true
  }

  private func logged(_ what: String, _ body: () throws -> Void) {
    do { try body() } catch { logger.warning("\(what): \(error)") }
  }
}
