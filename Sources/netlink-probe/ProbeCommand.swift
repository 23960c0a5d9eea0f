import FlannelCore
import Foundation
import Netlink

/// A probe command failed before reaching the kernel (bad syntax, unknown device).
struct ProbeUsageError: Error, CustomStringConvertible {
  let description: String
}

/// Runs one script line against the socket and returns what to print.
struct ProbeCommand {
  let socket: NetlinkSocket
  let words: [String]

  func run() throws -> JSONValue {
    guard let verb = words.first else { throw ProbeUsageError(description: "empty command") }
    switch verb {
    case "link": return try socket.link(named: arg(1)).map(ProbeJSON.link) ?? .null
    case "links": return .array(try socket.links().map(ProbeJSON.link))
    case "veth": try socket.createVethPair(arg(1), peer: arg(2))
    case "vxlan": return ProbeJSON.link(try socket.createVXLAN(try vxlanSpec()))
    case "up": try socket.setUp(index: try index(arg(1)))
    case "mtu": try socket.setMTU(index: try index(arg(1)), try int(arg(2)))
    case "mac": try socket.setMAC(index: try index(arg(1)), try mac(arg(2)))
    case "del": try socket.deleteLink(index: try index(arg(1)))
    case "addr-add": try socket.addAddress(try address())
    case "addr-del": try socket.deleteAddress(try address())
    case "addr-list":
      return .array(try socket.addresses(linkIndex: try index(arg(1))).map(ProbeJSON.address))
    case "route-replace": try socket.replaceRoute(try route())
    case "route-del": try socket.deleteRoute(try route())
    case "route-list":
      return .array(try socket.routes().map { ProbeJSON.route($0, socket: socket) })
    case "route-default":
      guard let route = try socket.defaultRoute() else { return .null }
      return .object([
        JSONMember("dev", route.outputIndex.map { .string(socket.linkName($0)) } ?? .null)
      ])
    case "route-get":
      return try socket.routeGet(try ip(arg(1))).map { ProbeJSON.route($0, socket: socket) }
        ?? .null
    case "neigh-replace":
      try socket.replaceNeighbour(
        Neighbour(linkIndex: try index(arg(1)), ip: try ip(arg(2)), mac: try mac(arg(3))))
    case "neigh-del": try socket.deleteNeighbour(ip: try ip(arg(2)), linkIndex: try index(arg(1)))
    case "neigh-list":
      return .array(try socket.neighbours(linkIndex: try index(arg(1))).map(ProbeJSON.neighbour))
    case "fdb-replace": try socket.replaceFDB(try fdbEntry())
    case "fdb-append": try socket.appendFDB(try fdbEntry())
    case "fdb-del": try socket.deleteFDB(try fdbEntry())
    case "fdb-list":
      return .array(try socket.fdbEntries(linkIndex: try index(arg(1))).map(ProbeJSON.fdb))
    default:
      guard let answer = try runIPv6(verb) else {
        throw ProbeUsageError(description: "unknown command \(verb)")
      }
      return answer
    }
    return .null
  }

  func arg(_ position: Int) throws -> String {
    guard position < words.count else {
      throw ProbeUsageError(description: "\(words.joined(separator: " ")): missing argument")
    }
    return words[position]
  }

  private func int(_ text: String) throws -> Int {
    guard let value = Int(text) else { throw ProbeUsageError(description: "not a number: \(text)") }
    return value
  }

  private func ip(_ text: String) throws -> IPv4Address {
    guard let value = IPv4Address(text) else {
      throw ProbeUsageError(description: "bad IP \(text)")
    }
    return value
  }

  func mac(_ text: String) throws -> MACAddress {
    guard let value = MACAddress(text) else {
      throw ProbeUsageError(description: "bad MAC \(text)")
    }
    return value
  }

  func index(_ name: String) throws -> Int {
    guard let link = try socket.link(named: name) else {
      throw ProbeUsageError(description: "no link \(name)")
    }
    return link.index
  }

  /// `addr-add DEV IP/N`.
  private func address() throws -> InterfaceAddress {
    let parts = try arg(2).split(separator: "/")
    guard parts.count == 2 else { throw ProbeUsageError(description: "bad address \(words[2])") }
    return InterfaceAddress(
      linkIndex: try index(arg(1)), address: try ip(String(parts[0])),
      prefixLength: try int(String(parts[1])))
  }

  /// `vxlan NAME vni=N [local=IP] [port=N] [dev=NAME] [learning=0|1] [gbp=0|1] [mtu=N] [mac=M]`.
  private func vxlanSpec() throws -> VXLANLinkSpec {
    var options: [String: String] = [:]
    for word in words.dropFirst(2) {
      let pair = word.split(separator: "=", maxSplits: 1).map(String.init)
      guard pair.count == 2 else { throw ProbeUsageError(description: "bad option \(word)") }
      options[pair[0]] = pair[1]
    }
    let attributes = VXLANAttributes(
      vni: UInt32(try int(options["vni"] ?? "1")),
      local: try options["local"].map(ip),
      local6: try options["local6"].map(ipv6),
      port: UInt16(try int(options["port"] ?? "0")),
      linkIndex: try options["dev"].map(index),
      learning: options["learning"] == "1",
      gbp: options["gbp"] == "1")
    return VXLANLinkSpec(
      name: try arg(1), attributes: attributes, mtu: try options["mtu"].map(int),
      mac: try options["mac"].map(mac))
  }

  /// `route-… DST [via GW] [dev NAME] [onlink] [scope link]`.
  private func route() throws -> Route {
    guard let destination = IPv4Network(try arg(1)) else {
      throw ProbeUsageError(description: "bad destination \(words[1])")
    }
    var route = Route(destination: destination)
    var position = 2
    while position < words.count {
      switch words[position] {
      case "via": route.gateway = try ip(arg(position + 1)); position += 2
      case "dev": route.outputIndex = try index(arg(position + 1)); position += 2
      case "scope":
        route.scope = try arg(position + 1) == "link" ? .link : .universe
        position += 2
      case "onlink": route.onlink = true; position += 1
      default: throw ProbeUsageError(description: "bad route word \(words[position])")
      }
    }
    return route
  }

  /// `fdb-… DEV MAC IP`.
  private func fdbEntry() throws -> FDBEntry {
    FDBEntry(linkIndex: try index(arg(1)), mac: try mac(arg(2)), destination: try ip(arg(3)))
  }
}
