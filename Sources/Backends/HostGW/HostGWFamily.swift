import FlannelCore
import Netlink

/// One address family of host-gw's routes: `<subnet> via <PublicIP> dev <external
/// interface>` for IPv4, `<IPv6 subnet> via <PublicIPv6> dev <external interface>` on a
/// dual-stack network. `HostGWRouteSync` keeps both, written once over this.
protocol HostGWFamily {
  associatedtype Subnet: Hashable & CustomStringConvertible
  associatedtype Address: Equatable
  associatedtype KernelRoute

  /// "" or "IPv6 ", for log lines that say which family they are about.
  static var label: String { get }
  /// A route of ours to the subnet but another metric stays beside one that `replace`
  /// programs (IPv6 replace matches on destination and metric), so a reconcile deletes the
  /// routes it replaces first.
  static var deletesBeforeReplace: Bool { get }

  static func contains(_ network: Subnet, _ subnet: Subnet) -> Bool
  /// A nexthop object of ours: its id (a lease's address) inside the Network, on `device`.
  static func isOurs(_ object: Nexthop, network: Subnet, device: Int) -> Bool

  static func destination(of route: KernelRoute) -> Subnet
  static func gateway(of route: KernelRoute) -> Address?
  static func outputIndex(of route: KernelRoute) -> Int?
  /// The nexthop object the route points at, nil for a plain route.
  static func nexthop(of route: KernelRoute) -> Nexthop?
  static func nexthopID(of route: KernelRoute) -> UInt32?
  /// The same route without a nexthop object (the plain form stock programs).
  static func plain(_ route: KernelRoute) -> KernelRoute

  static func routes(_ socket: NetlinkSocket) throws(NetlinkError) -> [KernelRoute]
  static func replaceRouteChange(_ socket: NetlinkSocket, _ route: KernelRoute) -> NetlinkChange
  static func deleteRouteChange(_ socket: NetlinkSocket, _ route: KernelRoute) -> NetlinkChange
  static func describe(_ socket: NetlinkSocket, _ route: KernelRoute) -> String
}

/// IPv4: routes through nexthop objects where the kernel has them (`Nexthop` says why).
enum HostGWIPv4: HostGWFamily {
  static var label: String { "" }
  static var deletesBeforeReplace: Bool { false }

  static func contains(_ network: IPv4Network, _ subnet: IPv4Network) -> Bool {
    network.contains(subnet)
  }

  static func isOurs(_ object: Nexthop, network: IPv4Network, device: Int) -> Bool {
    network.contains(IPv4Address(object.id)) && object.outputIndex == device
  }

  static func destination(of route: Route) -> IPv4Network { route.destination }
  static func gateway(of route: Route) -> IPv4Address? { route.gateway }
  static func outputIndex(of route: Route) -> Int? { route.outputIndex }
  static func nexthop(of route: Route) -> Nexthop? { route.nexthop }
  static func nexthopID(of route: Route) -> UInt32? { route.nexthopID }

  static func plain(_ route: Route) -> Route {
    var plain = route
    plain.nexthopID = nil
    return plain
  }

  static func routes(_ socket: NetlinkSocket) throws(NetlinkError) -> [Route] {
    try socket.routes()
  }

  static func replaceRouteChange(_ socket: NetlinkSocket, _ route: Route) -> NetlinkChange {
    socket.replaceRouteChange(route)
  }

  static func deleteRouteChange(_ socket: NetlinkSocket, _ route: Route) -> NetlinkChange {
    socket.deleteRouteChange(route)
  }

  static func describe(_ socket: NetlinkSocket, _ route: Route) -> String {
    socket.describe(route)
  }
}

/// IPv6: plain routes (`IPv6Route` says why nexthop objects buy nothing there).
enum HostGWIPv6: HostGWFamily {
  static var label: String { "IPv6 " }
  static var deletesBeforeReplace: Bool { true }

  static func contains(_ network: IPv6Network, _ subnet: IPv6Network) -> Bool {
    network.contains(subnet)
  }

  static func isOurs(_ object: Nexthop, network: IPv6Network, device: Int) -> Bool { false }

  static func destination(of route: IPv6Route) -> IPv6Network { route.destination }
  static func gateway(of route: IPv6Route) -> IPv6Address? { route.gateway }
  static func outputIndex(of route: IPv6Route) -> Int? { route.outputIndex }
  static func nexthop(of route: IPv6Route) -> Nexthop? { nil }
  static func nexthopID(of route: IPv6Route) -> UInt32? { nil }
  static func plain(_ route: IPv6Route) -> IPv6Route { route }

  static func routes(_ socket: NetlinkSocket) throws(NetlinkError) -> [IPv6Route] {
    try socket.ipv6Routes()
  }

  static func replaceRouteChange(_ socket: NetlinkSocket, _ route: IPv6Route) -> NetlinkChange {
    socket.replaceIPv6RouteChange(route)
  }

  static func deleteRouteChange(_ socket: NetlinkSocket, _ route: IPv6Route) -> NetlinkChange {
    socket.deleteIPv6RouteChange(route)
  }

  static func describe(_ socket: NetlinkSocket, _ route: IPv6Route) -> String {
    socket.describe(route)
  }
}
