import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

extension NetlinkSocket {
  /// IPv4 addresses, of one link when `linkIndex` is given.
  public func addresses(linkIndex: Int? = nil) throws(NetlinkError) -> [InterfaceAddress] {
    let request = NetlinkRequest(type: RTM_GETADDR, flags: NLM_F_DUMP)
    request.putFamilyHeader(ifaddrmsg.self) { $0.ifa_family = UInt8(AF_INET) }
    let messages = try execute(
      request, operation: "address list", object: linkIndex.map { "dev \(linkName($0))" } ?? "")
    return messages.compactMap { message -> InterfaceAddress? in
      guard message.type == UInt16(RTM_NEWADDR) else { return nil }
      let header = message.header(ifaddrmsg.self)
      let attributes = message.attributes(after: ifaddrmsg.self)
      guard header.ifa_family == UInt8(AF_INET),
        let ip = attributes.ipv4(UInt16(IFA_LOCAL)) ?? attributes.ipv4(UInt16(IFA_ADDRESS))
      else { return nil }
      let address = InterfaceAddress(
        linkIndex: Int(header.ifa_index), address: ip, prefixLength: Int(header.ifa_prefixlen))
      return linkIndex == nil || linkIndex == address.linkIndex ? address : nil
    }
  }

  /// Adds an address (EEXIST when it is already there, as `ip addr add`).
  public func addAddress(_ address: InterfaceAddress) throws(NetlinkError) {
    try changeAddress(
      address.address, prefixLength: address.prefixLength, linkIndex: address.linkIndex,
      type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL, verb: "add")
  }

  public func deleteAddress(_ address: InterfaceAddress) throws(NetlinkError) {
    try changeAddress(
      address.address, prefixLength: address.prefixLength, linkIndex: address.linkIndex,
      type: RTM_DELADDR, flags: 0, verb: "delete")
  }

  /// Adds an IPv6 address (EEXIST when it is already there). The kernel runs duplicate
  /// address detection on it as `ip -6 addr add` does, unless `detectDuplicates` is false
  /// (IFA_F_NODAD, `ip -6 addr add … nodad`: usable at once, for a point-to-point TUN).
  public func addIPv6Address(
    _ address: InterfaceIPv6Address, detectDuplicates: Bool = true
  ) throws(NetlinkError) {
    try changeAddress(
      address.address, prefixLength: address.prefixLength, linkIndex: address.linkIndex,
      type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL, verb: "add",
      addressFlags: detectDuplicates ? 0 : UInt32(IFA_F_NODAD))
  }

  public func deleteIPv6Address(_ address: InterfaceIPv6Address) throws(NetlinkError) {
    try changeAddress(
      address.address, prefixLength: address.prefixLength, linkIndex: address.linkIndex,
      type: RTM_DELADDR, flags: 0, verb: "delete")
  }

  private func changeAddress<A: NetlinkAddress>(
    _ ip: A, prefixLength: Int, linkIndex: Int, type: Int, flags: Int32, verb: String,
    addressFlags: UInt32 = 0
  ) throws(NetlinkError) {
    let request = NetlinkRequest(type: type, flags: flags)
    request.putFamilyHeader(ifaddrmsg.self) {
      $0.ifa_family = UInt8(A.addressFamily)
      $0.ifa_prefixlen = UInt8(prefixLength)
      $0.ifa_index = UInt32(linkIndex)
    }
    request.put(UInt16(IFA_LOCAL), address: ip)
    request.put(UInt16(IFA_ADDRESS), address: ip)
    if addressFlags != 0 { request.put(UInt16(IFA_FLAGS), u32: addressFlags) }
    _ = try execute(
      request, operation: "address \(verb)",
      object: "\(ip)/\(prefixLength) dev \(linkName(linkIndex))")
  }
}
