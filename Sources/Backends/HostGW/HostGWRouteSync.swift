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
  typealias KernelRoute = Family.KernelRoute
  typealias Subnet = KernelRoute.Subnet
  let socket: NetlinkSocket
  let externalIndex: Int
  let network: Subnet
  /// Routes through nexthop objects (their ids are the subnets' addresses, inside Network).
  let nexthops: Bool
  let logger: Logger

  func reconcile(_ wanted: [Subnet: KernelRoute]) {
    let present: [KernelRoute]
    let objects: [Nexthop]
    do {
      present = try KernelRoute.all(socket)
      objects = nexthops ? try socket.nexthops() : []
    } catch {
      logger.error("Error fetching \(Family.label)route list, will retry: \(error)")
      return
    }
    var presentByDestination: [Subnet: [KernelRoute]] = [:]
    for route in present where wanted[route.destination] != nil {
      presentByDestination[route.destination, default: []].append(route)
    }
    var added: [KernelRoute] = []
    let batch = socket.batch { (batch: NetlinkBatch<KernelRoute?>) in
      for route in present
      where route.outputIndex == externalIndex && route.gateway != nil
        && Family.contains(network, route.destination)
        && wanted[route.destination] == nil
      {
        batch.add(route.deleteChange(socket), tag: nil)
        logger.info("Deleted route \(route.describe(socket)) of a lease that is gone")
      }
      let wantedIDs = Set(wanted.values.compactMap(\.nexthopID))
      for object in objects
      where Family.isOurs(object, network: network, device: externalIndex)
        && !wantedIDs.contains(object.id)
      {
        batch.add(socket.deleteNexthopChange(id: object.id), tag: nil)
      }
      for route in wanted.values {
        let destination = route.destination
        let existing = presentByDestination[destination] ?? []
        if existing.count == 1, existing[0].gateway == route.gateway,
          existing[0].outputIndex == route.outputIndex
        {
          continue  // already there: never touch a working route
        }
        if !existing.isEmpty {
          let old = existing.map { $0.describe(socket) }.joined(separator: ", ")
          logger.warning("Replacing existing route to \(destination): \(old)")
          if Family.deletesBeforeReplace {
            for stale in existing { batch.add(stale.deleteChange(socket), tag: nil) }
          }
        }
        add(route, to: batch)
        added.append(route)
      }
    }
    report(batch, added: added)
  }

  /// The nexthop object first when the route points at one.
  private func add(_ route: KernelRoute, to batch: NetlinkBatch<KernelRoute?>) {
    if let nexthop = route.nexthop {
      batch.add(socket.replaceNexthopChange(nexthop), tag: route)
    }
    batch.add(route.replaceChange(socket), tag: route)
  }

  /// `changes`: per subnet the route programmed before (nil: none) and the one wanted now.
  func applyDelta(_ changes: [RouteChange<KernelRoute>]) {
    var added: [KernelRoute] = []
    let batch = socket.batch { (batch: NetlinkBatch<KernelRoute?>) in
      for change in changes {
        if let new = change.new {
          add(new, to: batch)
          added.append(new)
        } else if let old = change.old {
          // Both forms: the kernel may hold the plain route (stock's, kept on restart), and
          // a delete of one form never matches the other.
          batch.add(old.plain.deleteChange(socket), tag: nil)
          if let id = old.nexthopID {
            batch.add(socket.deleteNexthopChange(id: id), tag: nil)
          }
          logger.info("Deleted route \(old.describe(socket)) of a lease that is gone")
        }
      }
    }
    report(batch, added: added)
  }

  /// Errors as stock words them; one line per added route for a handful, else a summary.
  private func report(_ batch: NetlinkBatch<KernelRoute?>, added: [KernelRoute]) {
    var failed: Set<Subnet> = []
    for (route, error) in batch.failures {
      if let route {
        failed.insert(route.destination)
        logger.error("Error adding route \(route.describe(socket)): \(error)")
      } else if error.errno != ESRCH && error.errno != ENOENT {
        logger.error("Error deleting route: \(error)")
      }
    }
    let done = added.filter { !failed.contains($0.destination) }
    for route in done {
      let text = "Added route \(route.describe(socket))"
      done.count <= 16 ? logger.info("\(text)") : logger.debug("\(text)")
    }
    if done.count > 16 { logger.info("Added \(done.count) \(Family.label)routes") }
  }
}
