import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

private let rtnhFOnlink: UInt32 = 4  // RTNH_F_ONLINK, a #define in <linux/rtnetlink.h>
private let rtprotBoot: UInt8 = 3  // what `ip route` and Go's netlink library write

extension NetlinkSocket {
  /// Unicast IPv4 routes of the main table. A route through a nexthop object carries its
  /// gateway, device and onlink (from the object when the kernel's dump leaves them out, as it
  /// does with net.ipv4.nexthop_compat_mode=0).
  public func routes() throws(NetlinkError) -> [Route] {
    let request = NetlinkRequest(type: RTM_GETROUTE, flags: NLM_F_DUMP)
    request.putFamilyHeader(rtmsg.self) { $0.rtm_family = UInt8(AF_INET) }
    var routes = try execute(request, operation: "route list", object: "")
      .compactMap(Self.parseRoute)
      .filter { $0.table == Route.mainTable }
    if routes.contains(where: { $0.nexthopID != nil && $0.outputIndex == nil }) {
      let objects = Dictionary(
        try nexthops().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
      for index in routes.indices {
        guard let id = routes[index].nexthopID, let object = objects[id] else { continue }
        routes[index].gateway = object.gateway
        routes[index].outputIndex = object.outputIndex
        routes[index].onlink = object.onlink
      }
    }
    return routes
  }

  /// What the kernel would use to reach `destination` (`ip route get`).
  public func routeGet(_ destination: IPv4Address) throws(NetlinkError) -> Route? {
    let request = NetlinkRequest(type: RTM_GETROUTE, flags: 0)
    request.putFamilyHeader(rtmsg.self) {
      $0.rtm_family = UInt8(AF_INET)
      $0.rtm_dst_len = 32
    }
    request.put(UInt16(RTA_DST.rawValue), ipv4: destination)
    // RTM_GETROUTE answers with the route itself, not an ACK; mnl_cb_run ends on the ACK
    // that follows because execute asks for one.
    return try execute(request, operation: "route get", object: "\(destination)")
      .lazy.compactMap(Self.parseRoute).first
  }

  /// Adds the route or replaces the one with the same destination, table and TOS.
  public func replaceRoute(_ route: Route) throws(NetlinkError) {
    try apply(replaceRouteChange(route))
  }

  /// Deletes the route matching destination (and gateway/device when set), any scope.
  public func deleteRoute(_ route: Route) throws(NetlinkError) {
    try apply(deleteRouteChange(route))
  }

  /// `replaceRoute` as a change, to send alone or in a batch.
  public func replaceRouteChange(_ route: Route) -> NetlinkChange {
    routeChange(route, type: RTM_NEWROUTE, flags: NLM_F_CREATE | NLM_F_REPLACE, verb: "replace")
  }

  /// `deleteRoute` as a change, to send alone or in a batch.
  public func deleteRouteChange(_ route: Route) -> NetlinkChange {
    var any = route
    any.scope = RouteScope(rawValue: UInt8(RT_SCOPE_NOWHERE.rawValue))
    return routeChange(any, type: RTM_DELROUTE, flags: 0, verb: "delete", shown: route)
  }

  private func routeChange(
    _ route: Route, type: Int, flags: Int32, verb: String, shown: Route? = nil
  ) -> NetlinkChange {
    let request = NetlinkRequest(type: type, flags: flags, capacity: NetlinkRequest.entryCapacity)
    request.putFamilyHeader(rtmsg.self) {
      $0.rtm_family = UInt8(AF_INET)
      $0.rtm_dst_len = UInt8(route.destination.prefixLength)
      $0.rtm_table = UInt8(truncatingIfNeeded: route.table < 256 ? route.table : 0)
      $0.rtm_protocol = rtprotBoot
      $0.rtm_scope = route.scope.rawValue
      $0.rtm_type = UInt8(RTN_UNICAST)
      // Through a nexthop object, onlink belongs to the object.
      $0.rtm_flags = route.onlink && route.nexthopID == nil ? rtnhFOnlink : 0
    }
    if route.destination.prefixLength > 0 {
      request.put(UInt16(RTA_DST.rawValue), ipv4: route.destination.address)
    }
    if let id = route.nexthopID {
      request.put(UInt16(RTA_NH_ID.rawValue), u32: id)
    } else {
      if let gateway = route.gateway { request.put(UInt16(RTA_GATEWAY.rawValue), ipv4: gateway) }
      if let index = route.outputIndex {
        request.put(UInt16(RTA_OIF.rawValue), u32: UInt32(index))
      }
    }
    request.put(UInt16(RTA_TABLE.rawValue), u32: route.table)
    let described = shown ?? route
    return NetlinkChange(request, operation: "route \(verb)") { [self] in describe(described) }
  }

  /// `10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink`, as `ip route` prints it.
  public func describe(_ route: Route) -> String {
    var text = "\(route.destination)"
    if let gateway = route.gateway { text += " via \(gateway)" }
    if let index = route.outputIndex { text += " dev \(linkName(index))" }
    if route.scope != .universe { text += " scope \(route.scope)" }
    if route.onlink { text += " onlink" }
    return text
  }

  static func parseRoute(_ message: NetlinkMessage) -> Route? {
    guard message.type == UInt16(RTM_NEWROUTE) else { return nil }
    let header = message.header(rtmsg.self)
    guard header.rtm_family == UInt8(AF_INET), header.rtm_type == UInt8(RTN_UNICAST) else {
      return nil
    }
    let attributes = message.attributes(after: rtmsg.self)
    let prefix = Int(header.rtm_dst_len)
    let destination = attributes.ipv4(UInt16(RTA_DST.rawValue)) ?? IPv4Address(0)
    return Route(
      destination: IPv4Network(address: destination, prefixLength: prefix),
      gateway: attributes.ipv4(UInt16(RTA_GATEWAY.rawValue)),
      outputIndex: attributes.u32(UInt16(RTA_OIF.rawValue)).map(Int.init),
      onlink: header.rtm_flags & rtnhFOnlink != 0,
      scope: RouteScope(rawValue: header.rtm_scope),
      table: attributes.u32(UInt16(RTA_TABLE.rawValue)) ?? UInt32(header.rtm_table),
      nexthopID: attributes.u32(UInt16(RTA_NH_ID.rawValue)))
  }
}
