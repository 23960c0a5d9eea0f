import Foundation
import TestSupport
import Testing

/// Lease events applied as deltas (vxlan and host-gw, backend-probe in a namespace, state read
/// back through the Netlink module): an event changes exactly its own lease's objects, a
/// re-list converges to what a fresh start programs, and a long random run of events ends
/// where one full reconcile of the final table does.
@Suite struct LeaseDeltaTests {
  static let vxlan = #"{"Type":"vxlan"}"#
  static let hostGW = #"{"Type":"host-gw"}"#

  /// `prepare`, our lease, then the table as a first update would program it.
  static func startup(_ table: [String]) -> [String] {
    ["prepare", "configure 10.1.15.0/24", "apply " + table.joined(separator: " ")]
  }

  static let vxlanTable = [
    "10.1.16.0/24,192.168.100.2,vxlan,0e:00:00:00:00:16",
    "10.1.17.0/24,192.168.100.3,vxlan,0e:00:00:00:00:17",
    "10.1.18.0/24,10.99.0.3,vxlan,0e:00:00:00:00:18",
  ]
  static let hostGWTable = [
    "10.1.16.0/24,192.168.100.2,host-gw", "10.1.17.0/24,192.168.100.3,host-gw",
  ]

  /// The last `dump` answer of a probe run as sets of lines.
  struct Dump: Equatable {
    var routes: Set<String> = []
    var neighbours: Set<String> = []
    var fdb: Set<String> = []

    var all: Set<String> { routes.union(neighbours).union(fdb) }
  }

  static func dumps(_ answers: [[String: Any]]) -> [Dump] {
    answers.compactMap { answer in
      guard let ok = answer["ok"] as? [String: Any], let routes = ok["routes"] as? [String]
      else { return nil }
      return Dump(
        routes: Set(routes), neighbours: Set(ok["neighbours"] as? [String] ?? []),
        fdb: Set(ok["fdb"] as? [String] ?? []))
    }
  }

  /// Runs `lines` and then `dump`; every answer must be ok.
  static func run(_ lab: BackendLab, _ type: String, _ backend: String, _ lines: [String])
    throws -> Dump
  {
    let (answers, logs, _) = try lab.run(type, backend: backend, lines + ["dump"])
    let errors = answers.filter { $0["error"] != nil }
    #expect(errors.isEmpty, "\(errors) logs: \(logs.suffix(20))")
    return try #require(dumps(answers).last)
  }

  // MARK: - one event, exactly its objects

  @Test func vxlanEventChangesExactlyItsLeasesEntries() throws {
    let lab = try BackendLab("bk-dx")
    let before = try Self.run(lab, "vxlan", Self.vxlan, Self.startup(Self.vxlanTable))
    #expect(before.routes.contains("10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink"))

    // A new lease: its route, neighbour and FDB entry, and no other change in the kernel
    // (a restart with the same table changes nothing, so every change is the event's).
    var monitor = try KernelChangeMonitor(lab.ns)
    let added = try Self.run(
      lab, "vxlan", Self.vxlan,
      Self.startup(Self.vxlanTable) + ["add 10.1.19.0/24,192.168.100.9,vxlan,0e:00:00:00:00:19"])
    #expect(
      added.all.subtracting(before.all) == [
        "10.1.19.0/24 via 10.1.19.0 dev flannel.1 onlink",
        "10.1.19.0 lladdr 0e:00:00:00:00:19 state 128",
        "0e:00:00:00:00:19 dst 192.168.100.9 state 128",
      ])
    #expect(before.all.subtracting(added.all).isEmpty)
    var changes = try monitor.changes()
    #expect(!changes.isEmpty)
    #expect(
      changes.allSatisfy { $0.contains("10.1.19.0") || $0.contains("0e:00:00:00:00:19") },
      "\(changes)")

    // A changed lease (new VtepMAC and PublicIP): its neighbour and FDB entry replaced.
    let table2 = Self.vxlanTable + ["10.1.19.0/24,192.168.100.9,vxlan,0e:00:00:00:00:19"]
    monitor = try KernelChangeMonitor(lab.ns)
    let changed = try Self.run(
      lab, "vxlan", Self.vxlan,
      Self.startup(table2) + ["add 10.1.16.0/24,192.168.100.7,vxlan,0e:00:00:00:00:26"])
    #expect(
      changed.all.symmetricDifference(added.all) == [
        "10.1.16.0 lladdr 0e:00:00:00:00:16 state 128",
        "10.1.16.0 lladdr 0e:00:00:00:00:26 state 128",
        "0e:00:00:00:00:16 dst 192.168.100.2 state 128",
        "0e:00:00:00:00:26 dst 192.168.100.7 state 128",
      ])
    changes = try monitor.changes()
    #expect(
      changes.allSatisfy {
        $0.contains("10.1.16.0") || $0.contains("0e:00:00:00:00:16")
          || $0.contains("0e:00:00:00:00:26")
      }, "\(changes)")

    // A removed lease: exactly its three entries go.
    let table3 = [
      "10.1.16.0/24,192.168.100.7,vxlan,0e:00:00:00:00:26",
      "10.1.17.0/24,192.168.100.3,vxlan,0e:00:00:00:00:17",
      "10.1.18.0/24,10.99.0.3,vxlan,0e:00:00:00:00:18",
      "10.1.19.0/24,192.168.100.9,vxlan,0e:00:00:00:00:19",
    ]
    monitor = try KernelChangeMonitor(lab.ns)
    let removed = try Self.run(
      lab, "vxlan", Self.vxlan,
      Self.startup(table3) + ["remove 10.1.17.0/24,192.168.100.3,vxlan,0e:00:00:00:00:17"])
    #expect(
      changed.all.subtracting(removed.all) == [
        "10.1.17.0/24 via 10.1.17.0 dev flannel.1 onlink",
        "10.1.17.0 lladdr 0e:00:00:00:00:17 state 128",
        "0e:00:00:00:00:17 dst 192.168.100.3 state 128",
      ])
    #expect(removed.all.subtracting(changed.all).isEmpty)
    changes = try monitor.changes()
    #expect(
      changes.allSatisfy { $0.contains("10.1.17.0") || $0.contains("0e:00:00:00:00:17") },
      "\(changes)")
  }

  @Test func hostGWEventChangesExactlyItsLeasesRoute() throws {
    let lab = try BackendLab("bk-dh")
    let before = try Self.run(lab, "host-gw", Self.hostGW, Self.startup(Self.hostGWTable))
    var monitor = try KernelChangeMonitor(lab.ns)
    let added = try Self.run(
      lab, "host-gw", Self.hostGW,
      Self.startup(Self.hostGWTable) + ["add 10.1.19.0/24,192.168.100.9,host-gw"])
    #expect(added.all.subtracting(before.all) == ["10.1.19.0/24 via 192.168.100.9 dev eth0"])
    #expect(before.all.subtracting(added.all).isEmpty)
    var changes = try monitor.changes()
    #expect(!changes.isEmpty && changes.allSatisfy { $0.contains("10.1.19.0") }, "\(changes)")

    let table2 = Self.hostGWTable + ["10.1.19.0/24,192.168.100.9,host-gw"]
    monitor = try KernelChangeMonitor(lab.ns)
    let removed = try Self.run(
      lab, "host-gw", Self.hostGW,
      Self.startup(table2) + ["remove 10.1.16.0/24,192.168.100.2,host-gw"])
    #expect(added.all.subtracting(removed.all) == ["10.1.16.0/24 via 192.168.100.2 dev eth0"])
    #expect(removed.all.subtracting(added.all).isEmpty)
    changes = try monitor.changes()
    #expect(!changes.isEmpty && changes.allSatisfy { $0.contains("10.1.16.0") }, "\(changes)")
  }

  // MARK: - re-list after lost history

  @Test(arguments: ["vxlan", "host-gw"])
  func relistConvergesToAFreshStart(type: String) throws {
    let backend = type == "vxlan" ? Self.vxlan : Self.hostGW
    var rng = SplitMix(seed: 7)
    let first = RandomLeases(type: type)
    var second = first
    for _ in 0..<60 { second.step(using: &rng) }
    let t1 = first.lines
    let t2 = second.lines
    #expect(t1 != t2)

    let drifted = try BackendLab("bk-rl\(type.prefix(1))")
    _ = try Self.run(drifted, type, backend, Self.startup(t1))
    // Somebody else's damage while the watch was away: a stray entry, a missing one.
    if type == "vxlan" {
      try drifted.ns.ip(
        "route", "add", "10.1.250.0/24", "via", "10.1.250.0", "dev", "flannel.1", "onlink")
      try drifted.ns.ip(
        "neigh", "replace", "10.1.251.0", "lladdr", "0e:00:00:00:fa:fb", "dev", "flannel.1", "nud",
        "permanent")
    } else {
      try drifted.ns.ip("route", "add", "10.1.250.0/24", "via", "192.168.100.250", "dev", "eth0")
    }
    let relisted = try Self.run(
      drifted, type, backend, Self.startup(t1) + ["relist " + t2.joined(separator: " ")])

    let fresh = try BackendLab("bk-rf\(type.prefix(1))")
    let started = try Self.run(fresh, type, backend, Self.startup(t2))
    #expect(relisted.all.symmetricDifference(started.all) == [])
    #expect(started.routes.count > 10)
  }

  // MARK: - many events

  @Test(arguments: ["vxlan", "host-gw"])
  func thousandRandomEventsEndWhereOneFullReconcileDoes(type: String) throws {
    let backend = type == "vxlan" ? Self.vxlan : Self.hostGW
    var rng = SplitMix(seed: type == "vxlan" ? 11 : 13)
    var leases = RandomLeases(type: type)
    let initial = leases.lines
    var events: [String] = []
    for _ in 0..<1_000 { events.append(leases.step(using: &rng)) }
    #expect(events.contains { $0.hasPrefix("remove") } && events.contains { $0.hasPrefix("add") })

    let deltas = try BackendLab("bk-md\(type.prefix(1))")
    let afterEvents = try Self.run(deltas, type, backend, Self.startup(initial) + events)
    let full = try BackendLab("bk-mf\(type.prefix(1))")
    let reconciled = try Self.run(full, type, backend, Self.startup(leases.lines))
    #expect(afterEvents.all.symmetricDifference(reconciled.all) == [])
    #expect(reconciled.routes.count == leases.count(of: type) + 1)  // + the underlay's own
  }
}

/// A table of random leases in 10.1.20.0/24 … 10.1.79.0/24 (some of the other backend type,
/// which must be ignored) and the events that change it.
struct RandomLeases {
  let type: String
  private var table: [Int: (ip: Int, mac: Int, type: String)] = [:]

  init(type: String) {
    self.type = type
    for octet in stride(from: 20, to: 80, by: 3) { table[octet] = (octet, octet, type) }
  }

  func line(_ octet: Int) -> String {
    let lease = table[octet]!
    let mac = String(format: "0e:00:00:00:%02x:%02x", lease.mac >> 8, lease.mac & 0xff)
    return "10.1.\(octet).0/24,192.168.100.\(lease.ip),\(lease.type)"
      + (lease.type == "vxlan" ? ",\(mac)" : "")
  }

  var lines: [String] { table.keys.sorted().map(line) }

  func count(of type: String) -> Int { table.values.filter { $0.type == type }.count }

  /// One random add, change (PublicIP, VtepMAC or backend type) or remove, as a probe line.
  mutating func step(using rng: inout SplitMix) -> String {
    let octet = Int.random(in: 20..<80, using: &rng)
    let ip = Int.random(in: 2..<250, using: &rng)
    let mac = Int.random(in: 1..<0xffff, using: &rng)
    if table[octet] != nil && Bool.random(using: &rng) {
      let gone = line(octet)
      table[octet] = nil
      return "remove " + gone
    }
    let other = type == "vxlan" ? "host-gw" : "vxlan"
    table[octet] = (ip, mac, Int.random(in: 0..<10, using: &rng) == 0 ? other : type)
    return "add " + line(octet)
  }
}

/// SplitMix64, so a failing sequence is reproducible.
struct SplitMix: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
