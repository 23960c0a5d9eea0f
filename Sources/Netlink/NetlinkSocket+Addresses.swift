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
    try changeAddress(address, type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL, verb: "add")
  }

  public func deleteAddress(_ address: InterfaceAddress) throws(NetlinkError) {
    try changeAddress(address, type: RTM_DELADDR, flags: 0, verb: "delete")
  }

  private func changeAddress(
    _ address: InterfaceAddress, type: Int, flags: Int32, verb: String
  ) throws(NetlinkError) {
    let request = NetlinkRequest(type: type, flags: flags)
    request.putFamilyHeader(ifaddrmsg.self) {
      $0.ifa_family = UInt8(AF_INET)
      $0.ifa_prefixlen = UInt8(address.prefixLength)
      $0.ifa_index = UInt32(address.linkIndex)
    }
    request.put(UInt16(IFA_LOCAL), ipv4: address.address)
    request.put(UInt16(IFA_ADDRESS), ipv4: address.address)
    _ = try execute(
      request, operation: "address \(verb)",
      object: "\(address) dev \(linkName(address.linkIndex))")
  }
}
