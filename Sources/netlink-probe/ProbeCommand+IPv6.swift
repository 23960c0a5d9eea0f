import FlannelCore
import Netlink

/// The IPv6 commands:
///   route6-replace DST [via GW] [dev NAME] · route6-del … · route6-list · route6-default
///   addr6-list DEV · addr6-add DEV IP/LEN [nodad] · addr6-del DEV IP/LEN · route6-get IP
///   neigh6-replace DEV IP MAC · neigh6-del DEV IP · neigh6-list DEV
///   fdb6-replace DEV MAC IP · fdb6-del DEV MAC IP · fdb6-list DEV
extension ProbeCommand {
  /// The answer of an IPv6 command; nil when `verb` is not one.
  func runIPv6(_ verb: String) throws -> JSONValue? {
    switch verb {
    case "route6-replace": try socket.replaceIPv6Route(try ipv6Route())
    case "route6-del": try socket.deleteIPv6Route(try ipv6Route())
    case "route6-list":
      return .array(try socket.ipv6Routes().map { .string(socket.describe($0)) })
    case "route6-default":
      guard let route = try socket.ipv6DefaultRoute() else { return .null }
      return .object([
        JSONMember("dev", route.outputIndex.map { .string(socket.linkName($0)) } ?? .null)
      ])
    case "addr6-add":
      try socket.addIPv6Address(
        try ipv6Address(), detectDuplicates: words.count < 4 || words[3] != "nodad")
    case "addr6-del": try socket.deleteIPv6Address(try ipv6Address())
    case "route6-get":
      return try socket.ipv6RouteGet(try ipv6(arg(1))).map { .string(socket.describe($0)) } ?? .null
    case "neigh6-replace":
      try socket.replaceNeighbour(
        IPv6Neighbour(linkIndex: try index(arg(1)), ip: try ipv6(arg(2)), mac: try mac(arg(3))))
    case "neigh6-del":
      try socket.deleteNeighbour(ip: try ipv6(arg(2)), linkIndex: try index(arg(1)))
    case "neigh6-list":
      return .array(
        try socket.neighbours(linkIndex: try index(arg(1)), of: IPv6Address.self)
          .map(ProbeJSON.neighbour))
    case "fdb6-replace": try socket.replaceFDB(try ipv6FDBEntry())
    case "fdb6-del": try socket.deleteFDB(try ipv6FDBEntry())
    case "fdb6-list":
      return .array(
        try socket.fdbEntries(linkIndex: try index(arg(1)), of: IPv6Address.self)
          .map(ProbeJSON.fdb))
    case "addr6-list":
      return .array(
        try socket.ipv6Addresses(linkIndex: try index(arg(1))).map {
          .object([
            JSONMember("address", .string("\($0)")),
            JSONMember("permanent", .bool($0.flags & InterfaceIPv6Address.permanentFlag != 0)),
          ])
        })
    default: return nil
    }
    return .null
  }

  func ipv6(_ text: String) throws -> IPv6Address {
    guard let value = IPv6Address(text) else {
      throw ProbeUsageError(description: "bad IPv6 \(text)")
    }
    return value
  }

  /// `addr6-… DEV IP/LEN`.
  private func ipv6Address() throws -> InterfaceIPv6Address {
    let parts = try arg(2).split(separator: "/").map(String.init)
    guard parts.count == 2, let length = Int(parts[1]) else {
      throw ProbeUsageError(description: "bad address \(words[2])")
    }
    return InterfaceIPv6Address(
      linkIndex: try index(arg(1)), address: try ipv6(parts[0]), prefixLength: length)
  }

  /// `fdb6-… DEV MAC IP`.
  private func ipv6FDBEntry() throws -> IPv6FDBEntry {
    IPv6FDBEntry(
      linkIndex: try index(arg(1)), mac: try mac(arg(2)), destination: try ipv6(arg(3)))
  }

  /// `route6-… DST [via GW] [dev NAME] [onlink]`.
  private func ipv6Route() throws -> IPv6Route {
    guard let destination = IPv6Network(try arg(1)) else {
      throw ProbeUsageError(description: "bad destination \(words[1])")
    }
    var route = IPv6Route(destination: destination)
    var position = 2
    while position < words.count {
      switch words[position] {
      case "via":
        guard let gateway = IPv6Address(try arg(position + 1)) else {
          throw ProbeUsageError(description: "bad IPv6 \(words[position + 1])")
        }
        route.gateway = gateway
        position += 2
      case "dev": route.outputIndex = try index(arg(position + 1)); position += 2
      case "onlink": route.onlink = true; position += 1
      default: throw ProbeUsageError(description: "bad route word \(words[position])")
      }
    }
    return route
  }
}
