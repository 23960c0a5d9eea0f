import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

private let rtprotBoot = UInt8(RTPROT_BOOT)  // what `ip route` and Go's netlink library write
private let rtnhFOnlink = UInt32(RTNH_F_ONLINK)

extension NetlinkSocket {
  /// Unicast IPv6 routes of the main table (the kernel's fe80::/64 per link included;
  /// local and multicast routes live in other tables or types and are left out).
  public func ipv6Routes() throws(NetlinkError) -> [IPv6Route] {
    let request = NetlinkRequest(type: RTM_GETROUTE, flags: NLM_F_DUMP)
    request.putFamilyHeader(rtmsg.self) { $0.rtm_family = UInt8(AF_INET6) }
    return try execute(request, operation: "route list", object: "-6")
      .compactMap(Self.parseIPv6Route)
      .filter { $0.table == Route.mainTable }
  }

  /// The main table's first IPv6 default route (`::/0`), nil when there is none: where
  /// stock's GetDefaultV6GatewayInterface takes the default IPv6 interface from.
  public func ipv6DefaultRoute() throws(NetlinkError) -> DefaultRoute? {
    try ipv6Routes().first(where: { $0.destination.prefixLength == 0 })
      .map { DefaultRoute(outputIndex: $0.outputIndex) }
  }

  /// What the kernel would use to reach `destination` (`ip -6 route get`).
  public func ipv6RouteGet(_ destination: IPv6Address) throws(NetlinkError) -> IPv6Route? {
    let request = NetlinkRequest(type: RTM_GETROUTE, flags: 0)
    request.putFamilyHeader(rtmsg.self) {
      $0.rtm_family = UInt8(AF_INET6)
      $0.rtm_dst_len = 128
    }
    request.put(UInt16(RTA_DST.rawValue), ipv6: destination)
    return try execute(request, operation: "route get", object: "\(destination)")
      .lazy.compactMap(Self.parseIPv6Route).first
  }

  public func replaceIPv6Route(_ route: IPv6Route) throws(NetlinkError) {
    try apply(replaceIPv6RouteChange(route))
  }

  public func deleteIPv6Route(_ route: IPv6Route) throws(NetlinkError) {
    try apply(deleteIPv6RouteChange(route))
  }

  /// Adds the route or replaces the one with the same destination and metric.
  public func replaceIPv6RouteChange(_ route: IPv6Route) -> NetlinkChange {
    ipv6RouteChange(route, type: RTM_NEWROUTE, flags: NLM_F_CREATE | NLM_F_REPLACE, verb: "replace")
  }

  /// Deletes the route matching destination (and gateway/device when set).
  public func deleteIPv6RouteChange(_ route: IPv6Route) -> NetlinkChange {
    ipv6RouteChange(route, type: RTM_DELROUTE, flags: 0, verb: "delete")
  }

  private func ipv6RouteChange(_ route: IPv6Route, type: Int, flags: Int32, verb: String)
    -> NetlinkChange
  {
    let request = NetlinkRequest(type: type, flags: flags, capacity: NetlinkRequest.entryCapacity)
    request.putFamilyHeader(rtmsg.self) {
      $0.rtm_family = UInt8(AF_INET6)
      $0.rtm_dst_len = UInt8(route.destination.prefixLength)
      $0.rtm_table = UInt8(truncatingIfNeeded: route.table < 256 ? route.table : 0)
      $0.rtm_protocol = rtprotBoot
      $0.rtm_scope =
        type == RTM_DELROUTE
        ? UInt8(RT_SCOPE_NOWHERE.rawValue) : UInt8(RT_SCOPE_UNIVERSE.rawValue)
      $0.rtm_type = UInt8(RTN_UNICAST)
      $0.rtm_flags = route.onlink ? rtnhFOnlink : 0
    }
    if route.destination.prefixLength > 0 {
      request.put(UInt16(RTA_DST.rawValue), ipv6: route.destination.address)
    }
    if let gateway = route.gateway { request.put(UInt16(RTA_GATEWAY.rawValue), ipv6: gateway) }
    if let index = route.outputIndex { request.put(UInt16(RTA_OIF.rawValue), u32: UInt32(index)) }
    request.put(UInt16(RTA_TABLE.rawValue), u32: route.table)
    return NetlinkChange(request, operation: "route \(verb)") { [self] in describe(route) }
  }

  /// `fd10:0:0:16::/64 via fd00:100::2 dev eth0`, as `ip -6 route` prints it.
  public func describe(_ route: IPv6Route) -> String {
    var text = "\(route.destination)"
    if let gateway = route.gateway { text += " via \(gateway)" }
    if let index = route.outputIndex { text += " dev \(linkName(index))" }
    if route.onlink { text += " onlink" }
    return text
  }

  static func parseIPv6Route(_ message: NetlinkMessage) -> IPv6Route? {
    guard message.type == UInt16(RTM_NEWROUTE) else { return nil }
    let header = message.header(rtmsg.self)
    guard header.rtm_family == UInt8(AF_INET6), header.rtm_type == UInt8(RTN_UNICAST) else {
      return nil
    }
    let attributes = message.attributes(after: rtmsg.self)
    let destination = attributes.ipv6(UInt16(RTA_DST.rawValue)) ?? .zero
    return IPv6Route(
      destination: IPv6Network(address: destination, prefixLength: Int(header.rtm_dst_len)),
      gateway: attributes.ipv6(UInt16(RTA_GATEWAY.rawValue)),
      outputIndex: attributes.u32(UInt16(RTA_OIF.rawValue)).map(Int.init),
      onlink: header.rtm_flags & rtnhFOnlink != 0,
      table: attributes.u32(UInt16(RTA_TABLE.rawValue)) ?? UInt32(header.rtm_table))
  }
}
