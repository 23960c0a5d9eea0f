import FlannelCore
import Netlink

/// The IPv6 commands:
///   route6-replace DST [via GW] [dev NAME] · route6-del … · route6-list · route6-default
///   addr6-list DEV · addr6-add DEV IP/N
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
    case "addr6-list":
      return .array(
        try socket.ipv6Addresses(linkIndex: try index(arg(1))).map {
          .object([
            JSONMember("address", .string("\($0)")),
            JSONMember("permanent", .bool($0.flags & InterfaceIPv6Address.permanentFlag != 0)),
          ])
        })
    case "addr6-add":
      let parts = try arg(2).split(separator: "/")
      guard parts.count == 2, let address = IPv6Address(String(parts[0])),
        let prefixLength = Int(parts[1])
      else { throw ProbeUsageError(description: "bad IPv6 address \(words[2])") }
      try socket.addIPv6Address(
        InterfaceIPv6Address(
          linkIndex: try index(arg(1)), address: address, prefixLength: prefixLength))
    default: return nil
    }
    return .null
  }

  /// `route6-… DST [via GW] [dev NAME]`.
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
      default: throw ProbeUsageError(description: "bad route word \(words[position])")
      }
    }
    return route
  }
}
