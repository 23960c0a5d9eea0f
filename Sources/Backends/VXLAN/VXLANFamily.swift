import FlannelCore
import Netlink

/// One address family of the vxlan backend: `flannel.<VNI>` carries IPv4 over the IPv4
/// underlay, `flannel-v6.<VNI>` IPv6 over the IPv6 underlay, and both program the same three
/// entries per peer (neighbour, FDB entry, onlink route). The peer, the change set and the
/// reconcile are written once, over this and `FamilyRoute`.
protocol VXLANFamily {
  associatedtype Address: NetlinkAddress
  associatedtype Subnet: Hashable & Sendable & CustomStringConvertible
  associatedtype KernelRoute: FamilyRoute
  where KernelRoute.Subnet == Subnet, KernelRoute.Address == Address

  /// "" or "v6 ", for log lines that say which family they are about.
  static var label: String { get }

  static func gatewayAddress(of subnet: Subnet) -> Address
  /// The id of the subnet's nexthop object, nil where the family uses plain routes.
  static func nexthopID(of subnet: Subnet) -> UInt32?
  static func contains(_ network: Subnet, _ subnet: Subnet) -> Bool
  /// A nexthop object of ours on `device` (a lease's address inside the Network, via that
  /// address), so a reconcile may delete it when no peer uses it.
  static func isOurs(_ object: Nexthop, network: Subnet, device: Int) -> Bool

  /// `subnet via gateway [dev device] [onlink]`, through nexthop `id` when given.
  static func route(
    to subnet: Subnet, via gateway: Address, device: Int?, onlink: Bool, nexthopID: UInt32?
  ) -> KernelRoute
  /// DirectRouting: the route the kernel would take to `address` (stock's ip.DirectRouting).
  static func routeGet(_ socket: NetlinkSocket, _ address: Address) throws(NetlinkError)
    -> (gateway: Address?, outputIndex: Int?)?
}

/// IPv4: routes through nexthop objects where the kernel has them (`Nexthop` says why).
enum VXLANIPv4: VXLANFamily {
  static var label: String { "" }

  static func gatewayAddress(of subnet: IPv4Network) -> IPv4Address { subnet.address }

  /// The subnet's network address: unique among leases (their subnets do not overlap) and
  /// recognisable as ours (inside the Network). A lease at 0.0.0.0 keeps a plain route (id
  /// 0 asks the kernel to pick one).
  static func nexthopID(of subnet: IPv4Network) -> UInt32? {
    subnet.address.value == 0 ? nil : subnet.address.value
  }

  static func contains(_ network: IPv4Network, _ subnet: IPv4Network) -> Bool {
    network.contains(subnet)
  }

  static func isOurs(_ object: Nexthop, network: IPv4Network, device: Int) -> Bool {
    network.contains(IPv4Address(object.id)) && object.outputIndex == device
      && object.gateway == IPv4Address(object.id)
  }

  static func route(
    to subnet: IPv4Network, via gateway: IPv4Address, device: Int?, onlink: Bool,
    nexthopID: UInt32?
  ) -> Route {
    Route(
      destination: subnet, gateway: gateway, outputIndex: device, onlink: onlink,
      nexthopID: nexthopID)
  }

  static func routeGet(_ socket: NetlinkSocket, _ address: IPv4Address) throws(NetlinkError)
    -> (gateway: IPv4Address?, outputIndex: Int?)?
  {
    try socket.routeGet(address).map { ($0.gateway, $0.outputIndex) }
  }
}

/// IPv6: plain routes (`IPv6Route` says why nexthop objects buy nothing there).
enum VXLANIPv6: VXLANFamily {
  static var label: String { "v6 " }

  static func gatewayAddress(of subnet: IPv6Network) -> IPv6Address { subnet.address }
  static func nexthopID(of subnet: IPv6Network) -> UInt32? { nil }

  static func contains(_ network: IPv6Network, _ subnet: IPv6Network) -> Bool {
    network.contains(subnet)
  }

  static func isOurs(_ object: Nexthop, network: IPv6Network, device: Int) -> Bool { false }

  static func route(
    to subnet: IPv6Network, via gateway: IPv6Address, device: Int?, onlink: Bool,
    nexthopID: UInt32?
  ) -> IPv6Route {
    IPv6Route(destination: subnet, gateway: gateway, outputIndex: device, onlink: onlink)
  }

  static func routeGet(_ socket: NetlinkSocket, _ address: IPv6Address) throws(NetlinkError)
    -> (gateway: IPv6Address?, outputIndex: Int?)?
  {
    try socket.ipv6RouteGet(address).map { ($0.gateway, $0.outputIndex) }
  }
}
