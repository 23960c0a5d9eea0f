import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

private let iffUp: UInt32 = 0x1  // IFF_UP; <linux/if.h> clashes with Glibc's <net/if.h>
private let vethInfoPeer = UInt16(VETH_INFO_PEER)

extension NetlinkSocket {
  /// The link called `name`, or nil when there is none (ENODEV).
  public func link(named name: String) throws(NetlinkError) -> Link? {
    let request = NetlinkRequest(type: RTM_GETLINK, flags: 0)
    request.putFamilyHeader(ifinfomsg.self) { $0.ifi_family = UInt8(AF_UNSPEC) }
    request.put(UInt16(IFLA_IFNAME), string: name)
    return try oneLink(request, object: name)
  }

  /// The link with `index`, or nil when there is none.
  public func link(index: Int) throws(NetlinkError) -> Link? {
    let request = NetlinkRequest(type: RTM_GETLINK, flags: 0)
    request.putFamilyHeader(ifinfomsg.self) { $0.ifi_index = Int32(index) }
    return try oneLink(request, object: "index \(index)")
  }

  public func links() throws(NetlinkError) -> [Link] {
    let request = NetlinkRequest(type: RTM_GETLINK, flags: NLM_F_DUMP)
    request.putFamilyHeader(ifinfomsg.self) { $0.ifi_family = UInt8(AF_UNSPEC) }
    return try execute(request, operation: "link list", object: "").compactMap(Self.parseLink)
  }

  private func oneLink(_ request: NetlinkRequest, object: String) throws(NetlinkError) -> Link? {
    do {
      return try execute(request, operation: "link get", object: object).lazy
        .compactMap(Self.parseLink).first
    } catch  where error.errno == ENODEV {
      return nil
    }
  }

  static func parseLink(_ message: NetlinkMessage) -> Link? {
    guard message.type == UInt16(RTM_NEWLINK) else { return nil }
    let info = message.header(ifinfomsg.self)
    let attributes = message.attributes(after: ifinfomsg.self)
    let linkInfo = attributes.nested(UInt16(IFLA_LINKINFO))
    let kind = linkInfo?.string(UInt16(IFLA_INFO_KIND))
    var vxlan: VXLANAttributes?
    if kind == "vxlan", let data = linkInfo?.nested(UInt16(IFLA_INFO_DATA)) {
      vxlan = VXLANAttributes(
        vni: data.u32(UInt16(IFLA_VXLAN_ID)) ?? 0,
        local: data.ipv4(UInt16(IFLA_VXLAN_LOCAL)),
        local6: data.ipv6(UInt16(IFLA_VXLAN_LOCAL6)),
        port: data.u16BigEndian(UInt16(IFLA_VXLAN_PORT)) ?? 0,
        linkIndex: data.u32(UInt16(IFLA_VXLAN_LINK)).map(Int.init),
        learning: (data.u8(UInt16(IFLA_VXLAN_LEARNING)) ?? 0) != 0,
        gbp: data.has(UInt16(IFLA_VXLAN_GBP)))
    }
    return Link(
      index: Int(info.ifi_index),
      name: attributes.string(UInt16(IFLA_IFNAME)) ?? "",
      kind: kind,
      mtu: Int(attributes.u32(UInt16(IFLA_MTU)) ?? 0),
      isUp: info.ifi_flags & iffUp != 0,
      mac: attributes.mac(UInt16(IFLA_ADDRESS)),
      vxlan: vxlan)
  }

  /// Creates a vxlan device (fails with EEXIST if the name is taken). Port 0 is not sent, so
  /// the kernel applies its default (8472); no group, no L2/L3 miss notifications.
  @discardableResult
  public func createVXLAN(_ spec: VXLANLinkSpec) throws(NetlinkError) -> Link {
    let request = NetlinkRequest(type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL)
    request.putFamilyHeader(ifinfomsg.self) { $0.ifi_family = UInt8(AF_UNSPEC) }
    request.put(UInt16(IFLA_IFNAME), string: spec.name)
    if let mtu = spec.mtu { request.put(UInt16(IFLA_MTU), u32: UInt32(mtu)) }
    if let mac = spec.mac { request.put(UInt16(IFLA_ADDRESS), mac: mac) }
    let vx = spec.attributes
    request.nest(UInt16(IFLA_LINKINFO)) {
      request.put(UInt16(IFLA_INFO_KIND), string: "vxlan")
      request.nest(UInt16(IFLA_INFO_DATA)) {
        request.put(UInt16(IFLA_VXLAN_ID), u32: vx.vni)
        if let local = vx.local { request.put(UInt16(IFLA_VXLAN_LOCAL), ipv4: local) }
        if let local6 = vx.local6 { request.put(UInt16(IFLA_VXLAN_LOCAL6), ipv6: local6) }
        if let index = vx.linkIndex {
          request.put(UInt16(IFLA_VXLAN_LINK), u32: UInt32(index))
        }
        if vx.port > 0 { request.put(UInt16(IFLA_VXLAN_PORT), u16BigEndian: vx.port) }
        request.put(UInt16(IFLA_VXLAN_LEARNING), u8: vx.learning ? 1 : 0)
        if vx.gbp { request.putFlag(UInt16(IFLA_VXLAN_GBP)) }
      }
    }
    _ = try execute(request, operation: "link add", object: "\(spec.name) type vxlan id \(vx.vni)")
    guard let link = try link(named: spec.name) else {
      throw NetlinkError(operation: "link add", object: spec.name, errno: ENODEV)
    }
    return link
  }

  /// Creates a veth pair (both ends down). The peer's payload starts with its own ifinfomsg.
  public func createVethPair(_ name: String, peer: String) throws(NetlinkError) {
    let request = NetlinkRequest(type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL)
    request.putFamilyHeader(ifinfomsg.self) { $0.ifi_family = UInt8(AF_UNSPEC) }
    request.put(UInt16(IFLA_IFNAME), string: name)
    request.nest(UInt16(IFLA_LINKINFO)) {
      request.put(UInt16(IFLA_INFO_KIND), string: "veth")
      request.nest(UInt16(IFLA_INFO_DATA)) {
        request.nest(vethInfoPeer) {
          _ = mnl_nlmsg_put_extra_header(request.header, MemoryLayout<ifinfomsg>.size)
          request.put(UInt16(IFLA_IFNAME), string: peer)
        }
      }
    }
    _ = try execute(request, operation: "link add", object: "\(name) type veth peer \(peer)")
  }

  public func setUp(index: Int) throws(NetlinkError) {
    try changeLink(index, operation: "link set up") { request in
      request.putFamilyHeader(ifinfomsg.self) {
        $0.ifi_index = Int32(index)
        $0.ifi_flags = iffUp
        $0.ifi_change = iffUp
      }
    }
  }

  public func setMTU(index: Int, _ mtu: Int) throws(NetlinkError) {
    try changeLink(index, operation: "link set mtu \(mtu)") { request in
      request.putFamilyHeader(ifinfomsg.self) { $0.ifi_index = Int32(index) }
      request.put(UInt16(IFLA_MTU), u32: UInt32(mtu))
    }
  }

  public func setMAC(index: Int, _ mac: MACAddress) throws(NetlinkError) {
    try changeLink(index, operation: "link set address \(mac)") { request in
      request.putFamilyHeader(ifinfomsg.self) { $0.ifi_index = Int32(index) }
      request.put(UInt16(IFLA_ADDRESS), mac: mac)
    }
  }

  public func deleteLink(index: Int) throws(NetlinkError) {
    let object = linkName(index)
    let request = NetlinkRequest(type: RTM_DELLINK, flags: 0)
    request.putFamilyHeader(ifinfomsg.self) { $0.ifi_index = Int32(index) }
    _ = try execute(request, operation: "link delete", object: object)
  }

  private func changeLink(
    _ index: Int, operation: String, _ build: (NetlinkRequest) -> Void
  ) throws(NetlinkError) {
    let request = NetlinkRequest(type: RTM_NEWLINK, flags: 0)
    build(request)
    _ = try execute(request, operation: operation, object: linkName(index))
  }

  /// The device name for error texts and dumps; "if<index>" when it has none (any more).
  public func linkName(_ index: Int) -> String {
    var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
    guard if_indextoname(UInt32(index), &name) != nil else { return "if\(index)" }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
