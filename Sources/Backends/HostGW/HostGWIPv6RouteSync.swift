import FlannelCore
import Logging
import Netlink

#if canImport(Glibc)
  import Glibc
#endif

/// host-gw's IPv6 route keeping on a dual-stack network, the IPv6 twin of `HostGWRouteSync`:
/// `reconcile` is the full pass (startup, re-list, the 10 s check) — routes of ours (a
/// gateway route on the external interface inside the IPv6Network) that no lease wants are
/// deleted, a missing route is added, a differing one replaced, an identical one left alone;
/// `applyDelta` changes exactly the routes the events named. Plain routes, one netlink batch
/// per pass.
struct HostGWIPv6RouteSync {
  let socket: NetlinkSocket
  let externalIndex: Int
  let network: IPv6Network
  let logger: Logger

  func reconcile(_ wanted: [IPv6Network: IPv6Route]) {
    let present: [IPv6Route]
    do {
      present = try socket.ipv6Routes()
    } catch {
      logger.error("Error fetching IPv6 route list, will retry: \(error)")
      return
    }
    var presentByDestination: [IPv6Network: [IPv6Route]] = [:]
    for route in present where wanted[route.destination] != nil {
      presentByDestination[route.destination, default: []].append(route)
    }
    var added: [IPv6Route] = []
    let batch = socket.batch { (batch: NetlinkBatch<IPv6Route?>) in
      for route in present
      where route.outputIndex == externalIndex && route.gateway != nil
        && network.contains(route.destination) && wanted[route.destination] == nil
      {
        batch.add(socket.deleteIPv6RouteChange(route), tag: nil)
        logger.info("Deleted route \(socket.describe(route)) of a lease that is gone")
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
          // IPv6 replace matches on destination and metric: a route of another metric
          // would stay beside ours.
          for stale in existing { batch.add(socket.deleteIPv6RouteChange(stale), tag: nil) }
        }
        batch.add(socket.replaceIPv6RouteChange(route), tag: route)
        added.append(route)
      }
    }
    report(batch, added: added)
  }

  func applyDelta(_ changes: [RouteChange<IPv6Route>]) {
    var added: [IPv6Route] = []
    let batch = socket.batch { (batch: NetlinkBatch<IPv6Route?>) in
      for change in changes {
        if let new = change.new {
          batch.add(socket.replaceIPv6RouteChange(new), tag: new)
          added.append(new)
        } else if let old = change.old {
          batch.add(socket.deleteIPv6RouteChange(old), tag: nil)
          logger.info("Deleted route \(socket.describe(old)) of a lease that is gone")
        }
      }
    }
    report(batch, added: added)
  }

  /// Errors as stock words them; one line per added route for a handful, else a summary.
  private func report(_ batch: NetlinkBatch<IPv6Route?>, added: [IPv6Route]) {
    var failed: Set<IPv6Network> = []
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
    if done.count > 16 { logger.info("Added \(done.count) IPv6 routes") }
  }
}
