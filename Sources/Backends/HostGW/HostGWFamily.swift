import FlannelCore
import Netlink

/// One address family of host-gw's routes: `<subnet> via <PublicIP> dev <external
/// interface>` for IPv4, `<IPv6 subnet> via <PublicIPv6> dev <external interface>` on a
/// dual-stack network. `HostGWRouteSync` keeps both, written once over this and
/// `FamilyRoute`.
protocol HostGWFamily {
  associatedtype KernelRoute: FamilyRoute

  /// "" or "IPv6 ", for log lines that say which family they are about.
  static var label: String { get }
  /// A route of ours to the subnet but another metric stays beside one that `replace`
  /// programs (IPv6 replace matches on destination and metric), so a reconcile deletes the
  /// routes it replaces first.
  static var deletesBeforeReplace: Bool { get }

  static func contains(_ network: KernelRoute.Subnet, _ subnet: KernelRoute.Subnet) -> Bool
  /// A nexthop object of ours: its id (a lease's address) inside the Network, on `device`.
  static func isOurs(_ object: Nexthop, network: KernelRoute.Subnet, device: Int) -> Bool
}

/// IPv4: routes through nexthop objects where the kernel has them (`Nexthop` says why).
enum HostGWIPv4: HostGWFamily {
  typealias KernelRoute = Route
  static var label: String { "" }
  static var deletesBeforeReplace: Bool { false }

  static func contains(_ network: IPv4Network, _ subnet: IPv4Network) -> Bool {
    network.contains(subnet)
  }

  static func isOurs(_ object: Nexthop, network: IPv4Network, device: Int) -> Bool {
    network.contains(IPv4Address(object.id)) && object.outputIndex == device
  }
}

/// IPv6: plain routes.
enum HostGWIPv6: HostGWFamily {
  typealias KernelRoute = IPv6Route
  static var label: String { "IPv6 " }
  static var deletesBeforeReplace: Bool { true }

  static func contains(_ network: IPv6Network, _ subnet: IPv6Network) -> Bool {
    network.contains(subnet)
  }

  static func isOurs(_ object: Nexthop, network: IPv6Network, device: Int) -> Bool { false }
}
