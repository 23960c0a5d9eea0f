import FlannelCore
import Netlink

/// One local network interface and its IPv4 addresses, as rtnetlink reports them.
public struct LocalInterface: Sendable, Equatable {
  public var name: String
  public var index: Int
  /// In the kernel's order (the primary address of each prefix first).
  public var addresses: [IPv4Address]

  public init(name: String, index: Int, addresses: [IPv4Address]) {
    self.name = name
    self.index = index
    self.addresses = addresses
  }

  /// Go's choice for an interface's address (stock `GetInterfaceIP4Addr`): the first global
  /// unicast IPv4 address, else the first link-local one; loopback never qualifies.
  public var preferredAddress: IPv4Address? {
    addresses.first(where: IPv4Scope.isGlobalUnicast)
      ?? addresses.first(where: IPv4Scope.isLinkLocal)
  }
}

/// The address classes of Go's `net.IP` that interface selection depends on.
public enum IPv4Scope {
  public static func isLinkLocal(_ address: IPv4Address) -> Bool {
    address.value >> 16 == 0xA9FE  // 169.254.0.0/16
  }

  /// Not unspecified, loopback, multicast, link-local or the limited broadcast address.
  public static func isGlobalUnicast(_ address: IPv4Address) -> Bool {
    let v = address.value
    return v != 0 && v >> 24 != 127 && v >> 28 != 0xE && !isLinkLocal(address) && v != .max
  }
}

public enum LocalInterfaces {
  /// Every interface of this network namespace (also those without IPv4), ordered by index
  /// like Go's `net.Interfaces`; the addresses of each in the kernel's order.
  public static func list(through netlink: NetlinkSocket) throws(NetlinkError)
    -> [LocalInterface]
  {
    var byIndex = Dictionary(
      try netlink.links().map {
        ($0.index, LocalInterface(name: $0.name, index: $0.index, addresses: []))
      },
      uniquingKeysWith: { first, _ in first })
    for address in try netlink.addresses() {
      byIndex[address.linkIndex]?.addresses.append(address.address)
    }
    return byIndex.values.sorted { ($0.index, $0.name) < ($1.index, $1.name) }
  }

  /// The interface of the main table's first IPv4 default route (stock flannel's default
  /// interface, §1.3); nil when there is no default route.
  public static func defaultRouteInterface(through netlink: NetlinkSocket) throws -> String? {
    guard let route = try netlink.defaultRoute() else { return nil }
    guard let index = route.outputIndex else {
      throw InterfaceSelectionError(
        "failed to get default interface: the IPv4 default route has no device (a blackhole, unreachable or prohibit route); name the interface with -iface=<name or IP>"
      )
    }
    guard let link = try netlink.link(index: index) else {
      throw InterfaceSelectionError(
        "failed to get default interface: no interface with index \(index)")
    }
    return link.name
  }

  /// The interface's MTU, 0 when there is no such interface.
  public static func mtu(of name: String, through netlink: NetlinkSocket) throws(NetlinkError)
    -> Int
  {
    try netlink.link(named: name)?.mtu ?? 0
  }
}
