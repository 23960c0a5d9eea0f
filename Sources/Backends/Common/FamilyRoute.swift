import FlannelCore
import Netlink

/// A kernel route of either family, as the family-generic route keeping reads and programs
/// it (host-gw's `HostGWRouteSync`, vxlan's `VXLANReconciler` and `VXLANPeerChanges`):
/// IPv4's `Route` and IPv6's `IPv6Route` answer the same questions, so those are written
/// once.
protocol FamilyRoute: Hashable, Sendable {
  associatedtype Subnet: Hashable & Sendable & CustomStringConvertible
  associatedtype Address: Equatable

  var destination: Subnet { get }
  var gateway: Address? { get }
  var outputIndex: Int? { get }
  var onlink: Bool { get }
  /// The nexthop object the route points at; nil for a plain route (IPv6 routes are all
  /// plain: `IPv6Route` says why).
  var nexthop: Nexthop? { get }
  var nexthopID: UInt32? { get }
  /// The same route without a nexthop object (the plain form stock programs).
  var plain: Self { get }

  /// The main table's routes of this family.
  static func all(_ socket: NetlinkSocket) throws(NetlinkError) -> [Self]
  func replaceChange(_ socket: NetlinkSocket) -> NetlinkChange
  func deleteChange(_ socket: NetlinkSocket) -> NetlinkChange
  /// As log lines show it (`ip route` style).
  func describe(_ socket: NetlinkSocket) -> String
}

extension Route: FamilyRoute {
  var plain: Route {
    var plain = self
    plain.nexthopID = nil
    return plain
  }

  static func all(_ socket: NetlinkSocket) throws(NetlinkError) -> [Route] {
    try socket.routes()
  }

  func replaceChange(_ socket: NetlinkSocket) -> NetlinkChange { socket.replaceRouteChange(self) }
  func deleteChange(_ socket: NetlinkSocket) -> NetlinkChange { socket.deleteRouteChange(self) }
  func describe(_ socket: NetlinkSocket) -> String { socket.describe(self) }
}

extension IPv6Route: FamilyRoute {
  var nexthop: Nexthop? { nil }
  var nexthopID: UInt32? { nil }
  var plain: IPv6Route { self }

  static func all(_ socket: NetlinkSocket) throws(NetlinkError) -> [IPv6Route] {
    try socket.ipv6Routes()
  }

  func replaceChange(_ socket: NetlinkSocket) -> NetlinkChange {
    socket.replaceIPv6RouteChange(self)
  }

  func deleteChange(_ socket: NetlinkSocket) -> NetlinkChange {
    socket.deleteIPv6RouteChange(self)
  }

  func describe(_ socket: NetlinkSocket) -> String { socket.describe(self) }
}
