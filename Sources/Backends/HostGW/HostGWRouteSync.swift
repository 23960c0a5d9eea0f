import FlannelCore
import Logging
import Netlink

#if canImport(Glibc)
  import Glibc
#endif

/// host-gw route keeping against the kernel. `reconcile` is the full pass (startup, re-list,
/// the 10 s check): routes of leases that are gone are deleted (ours: a gateway route on the
/// external interface inside the Network), a missing route is added, a differing route for
/// the subnet is replaced, an identical one left alone; the kernel's routes are read once and
/// indexed by destination. `applyDelta` changes exactly the routes of the subnets an event
/// named. Both send their changes as one netlink batch.
struct HostGWRouteSync {
  let socket: NetlinkSocket
  let externalIndex: Int
  let network: IPv4Network
  /// Routes through nexthop objects (their ids are the subnets' addresses, inside Network).
  let nexthops: Bool
  let logger: Logger

  func reconcile(_ wanted: [IPv4Network: Route]) {
    let present: [Route]
    let objects: [Nexthop]
    do {
      present = try socket.routes()
      objects = nexthops ? try socket.nexthops() : []
    } catch {
      logger.error("Error fetching route list, will retry: \(error)")
      return
    }
    var presentByDestination: [IPv4Network: [Route]] = [:]
    for route in present where wanted[route.destination] != nil {
      presentByDestination[route.destination, default: []].append(route)
    }
    var added: [Route] = []
    let batch = socket.batch { (batch: NetlinkBatch<Route?>) in
      for route in present
      where route.outputIndex == externalIndex && route.gateway != nil
        && network.contains(route.destination) && wanted[route.destination] == nil
      {
        batch.add(socket.deleteRouteChange(route), tag: nil)
        logger.info("Deleted route \(socket.describe(route)) of a lease that is gone")
      }
      let wantedIDs = Set(wanted.values.compactMap(\.nexthopID))
      // Ours: an id inside the Network (a lease's address) on the external interface.
      for object in objects
      where network.contains(IPv4Address(object.id)) && object.outputIndex == externalIndex
        && !wantedIDs.contains(object.id)
      {
        batch.add(socket.deleteNexthopChange(id: object.id), tag: nil)
      }
      for route in wanted.values {
        let existing = presentByDestination[route.destination] ?? []
        if existing.count == 1, existing[0].gateway == route.gateway,
          existing[0].outputIndex == route.outputIndex
        {
          continue  // already there: never touch a working route
        }
        if !existing.isEmpty {
          let old = existing.map { socket.describe($0) }.joined(separator: ", ")
          logger.warning("Replacing existing route to \(route.destination): \(old)")
        }
        add(route, to: batch)
        added.append(route)
      }
    }
    report(batch, added: added)
  }

  /// The nexthop object first when the route points at one.
  private func add(_ route: Route, to batch: NetlinkBatch<Route?>) {
    if let nexthop = route.nexthop { batch.add(socket.replaceNexthopChange(nexthop), tag: route) }
    batch.add(socket.replaceRouteChange(route), tag: route)
  }

  /// `changes`: per subnet the route programmed before (nil: none) and the one wanted now.
  func applyDelta(_ changes: [RouteChange<Route>]) {
    var added: [Route] = []
    let batch = socket.batch { (batch: NetlinkBatch<Route?>) in
      for change in changes {
        if let new = change.new {
          add(new, to: batch)
          added.append(new)
        } else if let old = change.old {
          // Both forms: the kernel may hold the plain route (stock's, kept on restart), and
          // a delete of one form never matches the other.
          var plain = old
          plain.nexthopID = nil
          batch.add(socket.deleteRouteChange(plain), tag: nil)
          if let id = old.nexthopID { batch.add(socket.deleteNexthopChange(id: id), tag: nil) }
          logger.info("Deleted route \(socket.describe(old)) of a lease that is gone")
        }
      }
    }
    report(batch, added: added)
  }

  /// Errors as stock words them; one line per added route for a handful, else a summary.
  private func report(_ batch: NetlinkBatch<Route?>, added: [Route]) {
    var failed: Set<IPv4Network> = []
    for (route, error) in batch.failures {
      if let route {
        failed.insert(route.destination)
        logger.error("Error adding route \(socket.describe(route)): \(error)")
      } else if error.errno != ESRCH && error.errno != ENOENT {
        logger.error("Error deleting route: \(error)")
      }
    }
    let done = added.filter { !failed.contains($0.destination) }
    for route in done {
      let text = "Added route \(socket.describe(route))"
      done.count <= 16 ? logger.info("\(text)") : logger.debug("\(text)")
    }
    if done.count > 16 { logger.info("Added \(done.count) routes") }
  }
}
