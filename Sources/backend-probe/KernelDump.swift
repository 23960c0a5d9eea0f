import FlannelCore
import Netlink

/// The kernel state a backend programs, read back through the Netlink module (not `ip`):
/// every route of the main table (with the nexthop object it points at, if any), the nexthop
/// objects, and the neighbours and FDB entries of the vxlan device.
/// Devices by name, so two namespaces' dumps compare equal when their state is the same.
enum KernelDump {
  static func read(deviceName: String?) throws -> JSONValue {
    let socket = try NetlinkSocket()
    let routes = try socket.routes().map {
      socket.describe($0) + ($0.nexthopID.map { " nhid \($0)" } ?? "")
    }
    let nexthops = ((try? socket.nexthops()) ?? []).map { object in
      "id \(object.id)\(object.gateway.map { " via \($0)" } ?? "")"
        + "\(object.outputIndex.map { " dev \(socket.linkName($0))" } ?? "")"
        + (object.onlink ? " onlink" : "")
    }
    var neighbours: [String] = []
    var fdb: [String] = []
    if let deviceName, let device = try socket.link(named: deviceName) {
      neighbours = try socket.neighbours(linkIndex: device.index).map {
        "\($0.ip) lladdr \($0.mac.map { "\($0)" } ?? "none") state \($0.state)"
      }
      fdb = try socket.fdbEntries(linkIndex: device.index).map {
        "\($0.mac) dst \($0.destination.map { "\($0)" } ?? "none") state \($0.state)"
      }
    }
    func list(_ items: [String]) -> JSONValue { .array(items.sorted().map { .string($0) }) }
    return .object([
      JSONMember("routes", list(routes)), JSONMember("nexthops", list(nexthops)),
      JSONMember("neighbours", list(neighbours)), JSONMember("fdb", list(fdb)),
    ])
  }
}
