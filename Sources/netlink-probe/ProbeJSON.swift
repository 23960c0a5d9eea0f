import FlannelCore
import Netlink

/// The probe's output as JSON values (members in a fixed order so tests can read them).
enum ProbeJSON {
  static func link(_ link: Link) -> JSONValue {
    var members: [JSONMember] = [
      JSONMember("index", .int(Int64(link.index))),
      JSONMember("name", .string(link.name)),
      JSONMember("kind", link.kind.map(JSONValue.string) ?? .null),
      JSONMember("mtu", .int(Int64(link.mtu))),
      JSONMember("up", .bool(link.isUp)),
      JSONMember("mac", link.mac.map { .string($0.description) } ?? .null),
    ]
    if let vx = link.vxlan {
      members.append(
        JSONMember(
          "vxlan",
          .object([
            JSONMember("vni", .int(Int64(vx.vni))),
            JSONMember("local", vx.local.map { .string($0.description) } ?? .null),
            JSONMember("local6", vx.local6.map { .string($0.description) } ?? .null),
            JSONMember("port", .int(Int64(vx.port))),
            JSONMember("link", vx.linkIndex.map { .int(Int64($0)) } ?? .null),
            JSONMember("learning", .bool(vx.learning)),
            JSONMember("gbp", .bool(vx.gbp)),
          ])))
    }
    return .object(members)
  }

  static func address(_ address: InterfaceAddress) -> JSONValue {
    .string(address.description)
  }

  static func route(_ route: Route, socket: NetlinkSocket) -> JSONValue {
    .object([
      JSONMember("dst", .string(route.destination.description)),
      JSONMember("gateway", route.gateway.map { .string($0.description) } ?? .null),
      JSONMember("oif", route.outputIndex.map { .int(Int64($0)) } ?? .null),
      JSONMember("onlink", .bool(route.onlink)),
      JSONMember("scope", .string(route.scope.description)),
      JSONMember("text", .string(socket.describe(route))),
    ])
  }

  static func neighbour(_ neighbour: NeighbourEntry<some NetlinkAddress>) -> JSONValue {
    .object([
      JSONMember("ip", .string(neighbour.ip.description)),
      JSONMember("mac", neighbour.mac.map { .string($0.description) } ?? .null),
      JSONMember("permanent", .bool(neighbour.isPermanent)),
    ])
  }

  static func fdb(_ entry: BridgeFDBEntry<some NetlinkAddress>) -> JSONValue {
    .object([
      JSONMember("mac", .string(entry.mac.description)),
      JSONMember("dst", entry.destination.map { .string($0.description) } ?? .null),
      JSONMember("permanent", .bool(entry.isPermanent)),
      JSONMember("self", .bool(entry.isSelf)),
    ])
  }
}
