import FlannelCore
import Logging
import Netlink

/// One pass of host-gw route keeping: routes of leases that are gone are deleted (ours: a
/// gateway route on the external interface inside the Network), a missing route is added
/// ("Route recovered" when it was there before), a differing route for the subnet is
/// replaced, an identical one left alone.
struct HostGWRouteSync {
  let socket: NetlinkSocket
  let externalIndex: Int
  let network: IPv4Network
  let logger: Logger

  func sync(_ wanted: [Route]) {
    let present: [Route]
    do {
      present = try socket.routes()
    } catch {
      logger.error("Error fetching route list, will retry: \(error)")
      return
    }
    let wantedBySubnet = Dictionary(wanted.map { ($0.destination, $0) }, uniquingKeysWith: { $1 })
    for route in present
    where route.outputIndex == externalIndex && route.gateway != nil
      && network.contains(route.destination) && wantedBySubnet[route.destination] == nil
    {
      do {
        try socket.deleteRoute(route)
        logger.info("Deleted route \(socket.describe(route)) of a lease that is gone")
      } catch {
        logger.error("Error deleting route \(socket.describe(route)): \(error)")
      }
    }
    for route in wanted {
      let existing = present.filter { $0.destination == route.destination }
      if existing.count == 1, existing[0].gateway == route.gateway,
        existing[0].outputIndex == route.outputIndex
      {
        continue  // already there: never touch a working route
      }
      if !existing.isEmpty {
        let old = existing.map { socket.describe($0) }.joined(separator: ", ")
        logger.warning("Replacing existing route to \(route.destination): \(old)")
      }
      do {
        try socket.replaceRoute(route)
        logger.info("Added route \(socket.describe(route))")
      } catch {
        logger.error("Error adding route \(socket.describe(route)): \(error)")
      }
    }
  }
}
