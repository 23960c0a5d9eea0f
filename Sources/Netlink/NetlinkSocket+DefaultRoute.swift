import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

/// The main table's first IPv4 default route, reduced to what choosing the default interface
/// needs (flannel-behaviour §1.3).
public struct DefaultRoute: Sendable, Equatable {
  /// The device packets leave through: RTA_OIF, else the first hop of a multipath route, else
  /// the device of the nexthop object the route points at. Nil for a route without one
  /// (blackhole, unreachable, prohibit, a nexthop group).
  public var outputIndex: Int?

  public init(outputIndex: Int?) {
    self.outputIndex = outputIndex
  }
}

extension NetlinkSocket {
  /// The first route to 0.0.0.0/0 in the main table, in the kernel's order (lowest metric
  /// first), of any type: the route stock flannel takes the default interface from and the
  /// first default line of /proc/net/route. Nil when there is no IPv4 default route.
  public func defaultRoute() throws(NetlinkError) -> DefaultRoute? {
    let request = NetlinkRequest(type: RTM_GETROUTE, flags: NLM_F_DUMP)
    request.putFamilyHeader(rtmsg.self) { $0.rtm_family = UInt8(AF_INET) }
    let messages = try execute(request, operation: "route list", object: "default")
    for message in messages where message.type == UInt16(RTM_NEWROUTE) {
      let header = message.header(rtmsg.self)
      guard header.rtm_family == UInt8(AF_INET), header.rtm_dst_len == 0 else { continue }
      let attributes = message.attributes(after: rtmsg.self)
      let table = attributes.u32(UInt16(RTA_TABLE.rawValue)) ?? UInt32(header.rtm_table)
      guard table == Route.mainTable else { continue }
      if let index = attributes.u32(UInt16(RTA_OIF.rawValue)) {
        return DefaultRoute(outputIndex: Int(index))
      }
      if let hops = attributes.bytes(UInt16(RTA_MULTIPATH.rawValue)) {
        return DefaultRoute(outputIndex: Self.firstHopIndex(hops))
      }
      if let id = attributes.u32(UInt16(RTA_NH_ID.rawValue)) {
        // With net.ipv4.nexthop_compat_mode=0 the dump leaves the device to the object.
        let object = try nexthops().first { $0.id == id }
        return DefaultRoute(outputIndex: object?.outputIndex)
      }
      return DefaultRoute(outputIndex: nil)
    }
    return nil
  }

  /// The device of the first `struct rtnexthop` in an RTA_MULTIPATH payload.
  static func firstHopIndex(_ hops: ArraySlice<UInt8>) -> Int? {
    guard hops.count >= MemoryLayout<rtnexthop>.size else { return nil }
    let hop = hops.withUnsafeBytes { $0.loadUnaligned(as: rtnexthop.self) }
    return hop.rtnh_ifindex > 0 ? Int(hop.rtnh_ifindex) : nil
  }
}
