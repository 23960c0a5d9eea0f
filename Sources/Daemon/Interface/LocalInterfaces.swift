import FlannelCore
import Netlink

/// One local network interface and its addresses, as rtnetlink reports them.
public struct LocalInterface: Sendable, Equatable {
  public var name: String
  public var index: Int
  /// In the kernel's order (the primary address of each prefix first).
  public var addresses: [IPv4Address]
  /// In the kernel's order, with their flags.
  public var ipv6Addresses: [LocalIPv6Address]

  public init(
    name: String, index: Int, addresses: [IPv4Address], ipv6Addresses: [LocalIPv6Address] = []
  ) {
    self.name = name
    self.index = index
    self.addresses = addresses
    self.ipv6Addresses = ipv6Addresses
  }

  /// Stock's GetInterfaceIP6Addrs: global or link-local unicast, not deprecated; global
  /// before link-local, then permanent (configured) before others, then non-temporary
  /// before temporary (privacy) addresses; otherwise the kernel's order.
  public var usableIPv6Addresses: [IPv6Address] {
    let usable = ipv6Addresses.filter {
      (IPv6Scope.isGlobalUnicast($0.address) || IPv6Scope.isLinkLocal($0.address))
        && !$0.deprecated
    }
    // Rank digits: link-local, not permanent, temporary; ties keep the kernel's order.
    func rank(_ a: LocalIPv6Address) -> Int {
      (IPv6Scope.isLinkLocal(a.address) ? 4 : 0) + (a.permanent ? 0 : 2) + (a.temporary ? 1 : 0)
    }
    return usable.enumerated()
      .sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
      .map(\.element.address)
  }

  /// The first of `usableIPv6Addresses`: the node's IPv6 address on this interface.
  public var preferredIPv6Address: IPv6Address? { usableIPv6Addresses.first }

  /// Go's choice for an interface's address (stock `GetInterfaceIP4Addr`): the first global
  /// unicast IPv4 address, else the first link-local one; loopback never qualifies.
  public var preferredAddress: IPv4Address? {
    addresses.first(where: IPv4Scope.isGlobalUnicast)
      ?? addresses.first(where: IPv4Scope.isLinkLocal)
  }
}

/// An IPv6 address of an interface and the IFA_F_* flags address choice looks at.
public struct LocalIPv6Address: Sendable, Equatable, CustomStringConvertible {
  public var address: IPv6Address
  public var deprecated: Bool
  /// Configured by hand or by a tool, not by autoconfiguration.
  public var permanent: Bool
  /// A privacy address (RFC 8981).
  public var temporary: Bool

  public init(
    _ address: IPv6Address, deprecated: Bool = false, permanent: Bool = true,
    temporary: Bool = false
  ) {
    self.address = address
    self.deprecated = deprecated
    self.permanent = permanent
    self.temporary = temporary
  }

  public var description: String { address.description }
}

/// Go's `net.IP` classes for IPv6.
public enum IPv6Scope {
  /// fe80::/10.
  public static func isLinkLocal(_ address: IPv6Address) -> Bool {
    address.high >> 54 == 0x3FA
  }

  /// Not unspecified, loopback, multicast or link-local (an IPv4-mapped address counts as
  /// the IPv4 address it maps).
  public static func isGlobalUnicast(_ address: IPv6Address) -> Bool {
    if let ipv4 = address.ipv4Mapped { return IPv4Scope.isGlobalUnicast(ipv4) }
    let loopback = address.high == 0 && address.low == 1
    return !address.isZero && !loopback && address.high >> 56 != 0xFF && !isLinkLocal(address)
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
    for address in try netlink.ipv6Addresses() {
      byIndex[address.linkIndex]?.ipv6Addresses.append(
        LocalIPv6Address(
          address.address,
          deprecated: address.flags & InterfaceIPv6Address.deprecatedFlag != 0,
          permanent: address.flags & InterfaceIPv6Address.permanentFlag != 0,
          temporary: address.flags & InterfaceIPv6Address.temporaryFlag != 0))
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

  /// The interface of the main table's first IPv6 default route (stock's
  /// GetDefaultV6GatewayInterface); nil when there is no IPv6 default route.
  public static func ipv6DefaultRouteInterface(through netlink: NetlinkSocket) throws -> String? {
    guard let route = try netlink.ipv6DefaultRoute() else { return nil }
    guard let index = route.outputIndex, let link = try netlink.link(index: index) else {
      throw InterfaceSelectionError(
        "failed to get default v6 interface: found default v6 route but could not determine interface"
      )
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
