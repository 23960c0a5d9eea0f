import CLibMnl
import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

private let ntfSelf = UInt8(NTF_SELF)

extension NetlinkSocket {
  /// IPv4 neighbour entries of one link.
  public func neighbours(linkIndex: Int) throws(NetlinkError) -> [Neighbour] {
    try neighbours(linkIndex: linkIndex, of: IPv4Address.self)
  }

  /// Neighbour entries of family `A` (ARP or NDP) of one link.
  public func neighbours<A: NetlinkAddress>(linkIndex: Int, of _: A.Type) throws(NetlinkError)
    -> [NeighbourEntry<A>]
  {
    try neighbourDump(family: A.addressFamily, linkIndex: linkIndex).compactMap { message in
      let header = message.header(ndmsg.self)
      let attributes = message.attributes(after: ndmsg.self)
      guard let ip = attributes.address(UInt16(NDA_DST), as: A.self) else { return nil }
      return NeighbourEntry<A>(
        linkIndex: Int(header.ndm_ifindex), ip: ip,
        mac: attributes.mac(UInt16(NDA_LLADDR)), state: header.ndm_state)
    }
  }

  /// `ip neigh replace <ip> lladdr <mac> dev <link> nud permanent`.
  public func replaceNeighbour(_ neighbour: NeighbourEntry<some NetlinkAddress>)
    throws(NetlinkError)
  {
    try apply(replaceNeighbourChange(neighbour))
  }

  public func deleteNeighbour(ip: some NetlinkAddress, linkIndex: Int) throws(NetlinkError) {
    try apply(deleteNeighbourChange(ip: ip, linkIndex: linkIndex))
  }

  /// `replaceNeighbour` as a change, to send alone or in a batch.
  public func replaceNeighbourChange<A>(_ neighbour: NeighbourEntry<A>) -> NetlinkChange {
    let request = NetlinkRequest(
      type: RTM_NEWNEIGH, flags: NLM_F_CREATE | NLM_F_REPLACE,
      capacity: NetlinkRequest.entryCapacity)
    request.putFamilyHeader(ndmsg.self) {
      $0.ndm_family = UInt8(A.addressFamily)
      $0.ndm_ifindex = Int32(neighbour.linkIndex)
      $0.ndm_state = neighbour.state
    }
    request.put(UInt16(NDA_DST), address: neighbour.ip)
    if let mac = neighbour.mac { request.put(UInt16(NDA_LLADDR), mac: mac) }
    return NetlinkChange(request, operation: "neighbour replace") { [self] in
      "\(neighbour.ip) lladdr \(neighbour.mac.map { "\($0)" } ?? "none") "
        + "dev \(linkName(neighbour.linkIndex))"
    }
  }

  /// `deleteNeighbour` as a change, to send alone or in a batch.
  public func deleteNeighbourChange<A: NetlinkAddress>(ip: A, linkIndex: Int) -> NetlinkChange {
    let request = NetlinkRequest(
      type: RTM_DELNEIGH, flags: 0, capacity: NetlinkRequest.entryCapacity)
    request.putFamilyHeader(ndmsg.self) {
      $0.ndm_family = UInt8(A.addressFamily)
      $0.ndm_ifindex = Int32(linkIndex)
    }
    request.put(UInt16(NDA_DST), address: ip)
    return NetlinkChange(request, operation: "neighbour delete") { [self] in
      "\(ip) dev \(linkName(linkIndex))"
    }
  }

  /// Bridge-family FDB entries of one link (vxlan remote entries and the like), with IPv4
  /// destinations.
  public func fdbEntries(linkIndex: Int) throws(NetlinkError) -> [FDBEntry] {
    try fdbEntries(linkIndex: linkIndex, of: IPv4Address.self)
  }

  /// Bridge-family FDB entries of one link; a destination of the other family reads as nil.
  public func fdbEntries<A: NetlinkAddress>(linkIndex: Int, of _: A.Type) throws(NetlinkError)
    -> [BridgeFDBEntry<A>]
  {
    try neighbourDump(family: AF_BRIDGE, linkIndex: linkIndex).compactMap { message in
      let header = message.header(ndmsg.self)
      let attributes = message.attributes(after: ndmsg.self)
      guard let mac = attributes.mac(UInt16(NDA_LLADDR)) else { return nil }
      return BridgeFDBEntry<A>(
        linkIndex: Int(header.ndm_ifindex), mac: mac,
        destination: attributes.address(UInt16(NDA_DST), as: A.self), state: header.ndm_state,
        isSelf: header.ndm_flags & ntfSelf != 0)
    }
  }

  /// `bridge fdb replace <mac> dev <link> dst <ip> self permanent`: one remote per MAC.
  public func replaceFDB(_ entry: BridgeFDBEntry<some NetlinkAddress>) throws(NetlinkError) {
    try apply(replaceFDBChange(entry))
  }

  /// `bridge fdb append …`: adds another remote for the same MAC (flooding lists).
  public func appendFDB(_ entry: BridgeFDBEntry<some NetlinkAddress>) throws(NetlinkError) {
    try apply(
      fdbChange(entry, type: RTM_NEWNEIGH, flags: NLM_F_CREATE | NLM_F_APPEND, verb: "append"))
  }

  public func deleteFDB(_ entry: BridgeFDBEntry<some NetlinkAddress>) throws(NetlinkError) {
    try apply(deleteFDBChange(entry))
  }

  /// `replaceFDB` as a change, to send alone or in a batch.
  public func replaceFDBChange(_ entry: BridgeFDBEntry<some NetlinkAddress>) -> NetlinkChange {
    fdbChange(entry, type: RTM_NEWNEIGH, flags: NLM_F_CREATE | NLM_F_REPLACE, verb: "replace")
  }

  /// `deleteFDB` as a change, to send alone or in a batch.
  public func deleteFDBChange(_ entry: BridgeFDBEntry<some NetlinkAddress>) -> NetlinkChange {
    fdbChange(entry, type: RTM_DELNEIGH, flags: 0, verb: "delete")
  }

  private func fdbChange(
    _ entry: BridgeFDBEntry<some NetlinkAddress>, type: Int, flags: Int32, verb: String
  ) -> NetlinkChange {
    let request = NetlinkRequest(type: type, flags: flags, capacity: NetlinkRequest.entryCapacity)
    request.putFamilyHeader(ndmsg.self) {
      $0.ndm_family = UInt8(AF_BRIDGE)
      $0.ndm_ifindex = Int32(entry.linkIndex)
      $0.ndm_state = entry.state
      $0.ndm_flags = entry.isSelf ? ntfSelf : 0
    }
    request.put(UInt16(NDA_LLADDR), mac: entry.mac)
    if let destination = entry.destination {
      request.put(UInt16(NDA_DST), address: destination)
    }
    return NetlinkChange(request, operation: "fdb \(verb)") { [self] in
      "\(entry.mac) dev \(linkName(entry.linkIndex))\(entry.destination.map { " dst \($0)" } ?? "")"
    }
  }

  /// A neighbour-table dump of `family`, kept to the entries of `linkIndex` (the kernel's
  /// filtering differs between families and versions; filtering here is uniform).
  private func neighbourDump(family: Int32, linkIndex: Int) throws(NetlinkError)
    -> [NetlinkMessage]
  {
    let request = NetlinkRequest(type: RTM_GETNEIGH, flags: NLM_F_DUMP)
    request.putFamilyHeader(ndmsg.self) { $0.ndm_family = UInt8(family) }
    let verb = family == AF_BRIDGE ? "fdb list" : "neighbour list"
    return try execute(request, operation: verb, object: "dev \(linkName(linkIndex))").filter {
      $0.type == UInt16(RTM_NEWNEIGH) && Int($0.header(ndmsg.self).ndm_ifindex) == linkIndex
    }
  }
}
