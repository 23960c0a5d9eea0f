import FlannelCore
import Netlink

/// What host-gw programs for one remote lease: the IPv4 route (none on an IPv6-only
/// network) and, on a network with IPv6 for a lease with an IPv6 subnet and a PublicIPv6,
/// the IPv6 route `<IPv6 subnet> via <PublicIPv6> dev <external interface>` (stock's
/// GetV6Route).
struct HostGWPeer: Equatable {
  var route: Route?
  var ipv6Route: IPv6Route?
}

/// One lease's route change of one family: programmed before (nil: none), wanted now (nil:
/// none).
struct RouteChange<R> {
  let old: R?
  let new: R?
}

extension PeerIndex<LeaseSubnets, HostGWPeer>.Change {
  /// The IPv4 half, nil when that route did not change.
  var ipv4: RouteChange<Route>? {
    guard old?.route != new?.route else { return nil }
    return RouteChange(old: old?.route, new: new?.route)
  }

  /// The IPv6 half, nil when that route did not change.
  var ipv6: RouteChange<IPv6Route>? {
    guard old?.ipv6Route != new?.ipv6Route else { return nil }
    return RouteChange(old: old?.ipv6Route, new: new?.ipv6Route)
  }
}
