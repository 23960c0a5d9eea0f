import FlannelCore
import Netlink

/// What host-gw programs for one remote lease: the IPv4 route and, on a dual-stack network
/// for a lease with an IPv6 subnet and a PublicIPv6, the IPv6 route
/// `<IPv6 subnet> via <PublicIPv6> dev <external interface>` (stock's GetV6Route).
struct HostGWPeer: Equatable {
  var route: Route
  var ipv6Route: IPv6Route?
}

/// One subnet's IPv6 route change: programmed before (nil: none), wanted now (nil: none).
struct IPv6RouteChange {
  let old: IPv6Route?
  let new: IPv6Route?
}

extension PeerIndex<HostGWPeer>.Change {
  /// The IPv4 half, nil when that route did not change.
  var ipv4: PeerIndex<Route>.Change? {
    guard old?.route != new?.route else { return nil }
    return PeerIndex<Route>.Change(subnet: subnet, old: old?.route, new: new?.route)
  }

  /// The IPv6 half, nil when that route did not change.
  var ipv6: IPv6RouteChange? {
    guard old?.ipv6Route != new?.ipv6Route else { return nil }
    return IPv6RouteChange(old: old?.ipv6Route, new: new?.ipv6Route)
  }
}
