import Foundation
import TestSupport

/// One "host" for the backend tests: a namespace whose eth0 (a veth, 192.168.100.1/24, MTU
/// 1500) is the external interface, and the backend-probe run inside it.
struct BackendLab {
  let ns: ScratchNamespace
  static let probe = ScratchNamespace.builtProduct("backend-probe")
  static let network = "10.1.0.0/16"

  init(_ prefix: String) throws {
    ns = try ScratchNamespace(prefix)
    try ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
    // No IPv6 link-local addresses: one finishing duplicate address detection a second
    // after the link comes up would show among the kernel changes a test watches.
    try ns.ip("link", "set", "eth0", "addrgenmode", "none")
    try ns.ip("link", "set", "eth0p", "addrgenmode", "none")
    try ns.ip("link", "set", "eth0p", "up")
    try ns.ip("link", "set", "eth0", "up")
    try ns.ip("addr", "add", "192.168.100.1/24", "dev", "eth0")
  }

  func arguments(_ type: String, _ backend: String, publicIP: String?) -> [String] {
    ["netns", "exec", ns.name, Self.probe, type, "eth0", Self.network, backend]
      + (publicIP.map { [$0] } ?? [])
  }

  /// Runs a whole script; returns answers ({"ok"}/{"error"}) and log lines separately.
  /// `plainRoutes`: the backend programs plain routes instead of nexthop objects.
  /// `extra`: more PROBE_* variables (PROBE_IPV6_NETWORK for a dual-stack network).
  func run(
    _ type: String, backend: String = #"{"Type":"vxlan"}"#, publicIP: String? = nil,
    plainRoutes: Bool = false, extra: [String: String] = [:], _ lines: [String]
  ) throws -> (answers: [[String: Any]], logs: [String], raw: String) {
    var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    if plainRoutes { environment["PROBE_PLAIN_ROUTES"] = "1" }
    let output = try Shell.run(
      "/usr/sbin/ip", arguments(type, backend, publicIP: publicIP), environment: environment,
      input: lines.joined(separator: "\n") + "\n")
    var answers: [[String: Any]] = []
    var logs: [String] = []
    for line in output.split(separator: "\n") {
      let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
      if let log = json["log"] as? String { logs.append(log) } else { answers.append(json) }
    }
    return (answers, logs, output)
  }

  /// Starts the probe and leaves it running (for the loops that react to outside changes).
  func start(
    _ type: String, backend: String = #"{"Type":"vxlan"}"#, extra: [String: String] = [:],
    _ lines: [String]
  ) throws -> LineProcess {
    var arguments = arguments(type, backend, publicIP: nil)
    if !extra.isEmpty {
      // ip netns exec NS /usr/bin/env K=V… probe …
      arguments.insert(
        contentsOf: ["/usr/bin/env"] + extra.sorted { $0.key < $1.key }.map { "\($0)=\($1)" },
        at: 3)
    }
    return try LineProcess(
      "/usr/sbin/ip", arguments, input: lines.joined(separator: "\n") + "\n")
  }

  /// Kernel state as `ip`/`bridge` print it, each a set of comparable strings.
  struct Snapshot: Equatable {
    var device: String = ""
    var addresses: Set<String> = []
    var routes: Set<String> = []
    var neighbours: Set<String> = []
    var fdb: Set<String> = []
  }

  func snapshot(device: String = "flannel.1") throws -> Snapshot {
    var s = Snapshot()
    let routes = try ns.json("/usr/sbin/ip", ["-4", "-j", "route"])
    s.routes = Set(
      routes.map { r in
        var text = "\(r["dst"] ?? "")"
        if let gateway = r["gateway"] { text += " via \(gateway)" }
        text += " dev \(r["dev"] ?? "")"
        if (r["flags"] as? [String])?.contains("onlink") == true { text += " onlink" }
        return text
      })
    guard let link = try? ns.json("/usr/sbin/ip", ["-d", "-j", "link", "show", device]).first
    else { return s }
    let data = ((link["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any]) ?? [:]
    s.device =
      "\(link["ifindex"]!) \(link["address"]!) mtu \(link["mtu"]!) "
      + "\((link["flags"] as? [String])?.contains("UP") == true ? "up" : "down") "
      + "id \(data["id"] ?? "-") local \(data["local"] ?? "-") link \(data["link"] ?? "-") "
      + "port \(data["port"] ?? "-") learning \(data["learning"] ?? "-") gbp \(data["gbp"] ?? false)"
    let addresses = try ns.json("/usr/sbin/ip", ["-4", "-j", "addr", "show", "dev", device])
    s.addresses = Set(
      ((addresses.first?["addr_info"] as? [[String: Any]]) ?? []).map {
        "\($0["local"]!)/\($0["prefixlen"]!)"
      })
    s.neighbours = Set(
      try ns.json("/usr/sbin/ip", ["-4", "-j", "neigh", "show", "dev", device]).map {
        "\($0["dst"]!) \($0["lladdr"] ?? "-") \((($0["state"] as? [String]) ?? []).joined())"
      })
    s.fdb = Set(
      try ns.json("/usr/sbin/bridge", ["-j", "fdb", "show", "dev", device]).map {
        "\($0["mac"]!) dst \($0["dst"] ?? "-") \($0["state"] ?? "")"
      })
    return s
  }

  /// Polls `condition` every 100 ms until it holds or `seconds` pass.
  func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return true }
      usleep(100_000)
    }
    return try condition()
  }
}
