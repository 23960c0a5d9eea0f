import FlannelCore
import Logging
import Netlink

#if canImport(Glibc)
  import Glibc
#endif

/// host-gw route keeping against the kernel, for one address family (`HostGWIPv4`, and
/// `HostGWIPv6` on a dual-stack network). `reconcile` is the full pass (startup, re-list,
/// the 10 s check): routes of leases that are gone are deleted (ours: a gateway route on the
/// external interface inside the Network), a missing route is added, a differing route for
/// the subnet is replaced, an identical one left alone; the kernel's routes are read once and
/// indexed by destination. `applyDelta` changes exactly the routes of the subnets an event
/// named. Both send their changes as one netlink batch.
struct HostGWRouteSync<Family: HostGWFamily> {
  let socket: NetlinkSocket
  let externalIndex: Int
  let network: Family.Subnet
  /// Routes through nexthop objects (their ids are the subnets' addresses, inside Network).
  let nexthops: Bool
  let logger: Logger

  func reconcile(_ wanted: [Family.Subnet: Family.KernelRoute]) {
    let present: [Family.KernelRoute]
    let objects: [Nexthop]
    do {
      present = try Family.routes(socket)
      objects = nexthops ? try socket.nexthops() : []
    } catch {
      logger.error("Error fetching \(Family.label)route list, will retry: \(error)")
      return
    }
    var presentByDestination: [Family.Subnet: [Family.KernelRoute]] = [:]
    for route in present where wanted[Family.destination(of: route)] != nil {
      presentByDestination[Family.destination(of: route), default: []].append(route)
    }
    var added: [Family.KernelRoute] = []
    let batch = socket.batch { (batch: NetlinkBatch<Family.KernelRoute?>) in
      for route in present
      where Family.outputIndex(of: route) == externalIndex && Family.gateway(of: route) != nil
        && Family.contains(network, Family.destination(of: route))
        && wanted[Family.destination(of: route)] == nil
      {
        batch.add(Family.deleteRouteChange(socket, route), tag: nil)
        logger.info("Deleted route \(Family.describe(socket, route)) of a lease that is gone")
      }
      let wantedIDs = Set(wanted.values.compactMap(Family.nexthopID(of:)))
      for object in objects
      where Family.isOurs(object, network: network, device: externalIndex)
        && !wantedIDs.contains(object.id)
      {
        batch.add(socket.deleteNexthopChange(id: object.id), tag: nil)
      }
      for route in wanted.values {
        let destination = Family.destination(of: route)
        let existing = presentByDestination[destination] ?? []
        if existing.count == 1, Family.gateway(of: existing[0]) == Family.gateway(of: route),
          Family.outputIndex(of: existing[0]) == Family.outputIndex(of: route)
        {
          continue  // already there: never touch a working route
        }
        if !existing.isEmpty {
          let old = existing.map { Family.describe(socket, $0) }.joined(separator: ", ")
          logger.warning("Replacing existing route to \(destination): \(old)")
          if Family.deletesBeforeReplace {
            for stale in existing { batch.add(Family.deleteRouteChange(socket, stale), tag: nil) }
          }
        }
        add(route, to: batch)
        added.append(route)
      }
    }
    report(batch, added: added)
  }

  /// The nexthop object first when the route points at one.
  private func add(_ route: Family.KernelRoute, to batch: NetlinkBatch<Family.KernelRoute?>) {
    if let nexthop = Family.nexthop(of: route) {
      batch.add(socket.replaceNexthopChange(nexthop), tag: route)
    }
    batch.add(Family.replaceRouteChange(socket, route), tag: route)
  }

  /// `changes`: per subnet the route programmed before (nil: none) and the one wanted now.
  func applyDelta(_ changes: [RouteChange<Family.KernelRoute>]) {
    var added: [Family.KernelRoute] = []
    let batch = socket.batch { (batch: NetlinkBatch<Family.KernelRoute?>) in
      for change in changes {
        if let new = change.new {
          add(new, to: batch)
          added.append(new)
        } else if let old = change.old {
          // Both forms: the kernel may hold the plain route (stock's, kept on restart), and
          // a delete of one form never matches the other.
          batch.add(Family.deleteRouteChange(socket, Family.plain(old)), tag: nil)
          if let id = Family.nexthopID(of: old) {
            batch.add(socket.deleteNexthopChange(id: id), tag: nil)
          }
          logger.info("Deleted route \(Family.describe(socket, old)) of a lease that is gone")
        }
      }
    }
    report(batch, added: added)
  }

  /// Errors as stock words them; one line per added route for a handful, else a summary.
  private func report(_ batch: NetlinkBatch<Family.KernelRoute?>, added: [Family.KernelRoute]) {
    var failed: Set<Family.Subnet> = []
    for (route, error) in batch.failures {
      if let route {
        failed.insert(Family.destination(of: route))
        logger.error("Error adding route \(Family.describe(socket, route)): \(error)")
      } else if error.errno != ESRCH && error.errno != ENOENT {
        logger.error("Error deleting route: \(error)")
      }
    }
    let done = added.filter { !failed.contains(Family.destination(of: $0)) }
    for route in done {
      let text = "Added route \(Family.describe(socket, route))"
      done.count <= 16 ? logger.info("\(text)") : logger.debug("\(text)")
    }
    if done.count > 16 { logger.info("Added \(done.count) \(Family.label)routes") }
  }
}
