import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

extension NetlinkSocket {
  /// IPv6 addresses, of one link when `linkIndex` is given, in the kernel's order. The flags
  /// come from IFA_FLAGS (32 bits) when present, else from the header's 8 bits.
  public func ipv6Addresses(linkIndex: Int? = nil) throws(NetlinkError) -> [InterfaceIPv6Address] {
    let request = NetlinkRequest(type: RTM_GETADDR, flags: NLM_F_DUMP)
    request.putFamilyHeader(ifaddrmsg.self) { $0.ifa_family = UInt8(AF_INET6) }
    let messages = try execute(
      request, operation: "address list",
      object: "-6" + (linkIndex.map { " dev \(linkName($0))" } ?? ""))
    return messages.compactMap { message -> InterfaceIPv6Address? in
      guard message.type == UInt16(RTM_NEWADDR) else { return nil }
      let header = message.header(ifaddrmsg.self)
      let attributes = message.attributes(after: ifaddrmsg.self)
      guard header.ifa_family == UInt8(AF_INET6),
        let ip = attributes.ipv6(UInt16(IFA_LOCAL)) ?? attributes.ipv6(UInt16(IFA_ADDRESS))
      else { return nil }
      let address = InterfaceIPv6Address(
        linkIndex: Int(header.ifa_index), address: ip, prefixLength: Int(header.ifa_prefixlen),
        flags: attributes.u32(UInt16(IFA_FLAGS)) ?? UInt32(header.ifa_flags))
      return linkIndex == nil || linkIndex == address.linkIndex ? address : nil
    }
  }
}

extension NetlinkSocket {
  /// Adds an IPv6 address without duplicate address detection (IFA_F_NODAD: usable at once,
  /// as `ip -6 addr add … nodad`); EEXIST when it is already there.
  public func addIPv6Address(_ address: InterfaceIPv6Address) throws(NetlinkError) {
    let request = NetlinkRequest(type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL)
    request.putFamilyHeader(ifaddrmsg.self) {
      $0.ifa_family = UInt8(AF_INET6)
      $0.ifa_prefixlen = UInt8(address.prefixLength)
      $0.ifa_index = UInt32(address.linkIndex)
    }
    request.put(UInt16(IFA_LOCAL), ipv6: address.address)
    request.put(UInt16(IFA_ADDRESS), ipv6: address.address)
    request.put(UInt16(IFA_FLAGS), u32: address.flags | UInt32(IFA_F_NODAD))
    _ = try execute(
      request, operation: "address add", object: "\(address) dev \(linkName(address.linkIndex))")
  }
}
