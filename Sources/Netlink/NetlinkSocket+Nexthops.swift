import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

private let rtnhFOnlink: UInt32 = 4  // RTNH_F_ONLINK, a #define in <linux/rtnetlink.h>
private let rtprotBoot: UInt8 = 3  // as the routes

extension NetlinkSocket {
  /// IPv4 nexthop objects. Throws (EINVAL, EOPNOTSUPP) on kernels before 5.3, which have none:
  /// `supportsNexthops` asks exactly that.
  public func nexthops() throws(NetlinkError) -> [Nexthop] {
    let request = NetlinkRequest(type: RTM_GETNEXTHOP, flags: NLM_F_DUMP)
    request.putFamilyHeader(nhmsg.self) { $0.nh_family = UInt8(AF_INET) }
    return try execute(request, operation: "nexthop list", object: "").compactMap {
      message -> Nexthop? in
      guard message.type == UInt16(RTM_NEWNEXTHOP) else { return nil }
      let header = message.header(nhmsg.self)
      let attributes = message.attributes(after: nhmsg.self)
      guard header.nh_family == UInt8(AF_INET), let id = attributes.u32(UInt16(NHA_ID))
      else { return nil }
      return Nexthop(
        id: id, gateway: attributes.ipv4(UInt16(NHA_GATEWAY)),
        outputIndex: attributes.u32(UInt16(NHA_OIF)).map(Int.init),
        onlink: header.nh_flags & rtnhFOnlink != 0)
    }
  }

  /// True when the kernel has nexthop objects (Linux ≥ 5.3).
  public var supportsNexthops: Bool { (try? nexthops()) != nil }

  /// `ip nexthop replace id ID via GW dev DEV [onlink]`, to send alone or in a batch.
  public func replaceNexthopChange(_ nexthop: Nexthop) -> NetlinkChange {
    let request = NetlinkRequest(
      type: RTM_NEWNEXTHOP, flags: NLM_F_CREATE | NLM_F_REPLACE,
      capacity: NetlinkRequest.entryCapacity)
    request.putFamilyHeader(nhmsg.self) {
      $0.nh_family = UInt8(AF_INET)
      $0.nh_protocol = rtprotBoot
      $0.nh_flags = nexthop.onlink ? rtnhFOnlink : 0
    }
    request.put(UInt16(NHA_ID), u32: nexthop.id)
    if let gateway = nexthop.gateway { request.put(UInt16(NHA_GATEWAY), ipv4: gateway) }
    if let index = nexthop.outputIndex {
      request.put(UInt16(NHA_OIF), u32: UInt32(index))
    }
    return NetlinkChange(request, operation: "nexthop replace") { [self] in
      "id \(nexthop.id)\(nexthop.gateway.map { " via \($0)" } ?? "")"
        + "\(nexthop.outputIndex.map { " dev \(linkName($0))" } ?? "")"
        + (nexthop.onlink ? " onlink" : "")
    }
  }

  /// `ip nexthop delete id ID` (routes through it go with it), to send alone or in a batch.
  public func deleteNexthopChange(id: UInt32) -> NetlinkChange {
    let request = NetlinkRequest(
      type: RTM_DELNEXTHOP, flags: 0, capacity: NetlinkRequest.entryCapacity)
    request.putFamilyHeader(nhmsg.self) { $0.nh_family = UInt8(AF_INET) }
    request.put(UInt16(NHA_ID), u32: id)
    return NetlinkChange(request, operation: "nexthop delete") { "id \(id)" }
  }
}
