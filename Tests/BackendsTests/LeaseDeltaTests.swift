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
    var nexthops: Set<String> = []
    var neighbours: Set<String> = []
    var fdb: Set<String> = []

    /// Everything, in the exact form the kernel holds it.
    var all: Set<String> { routes.union(nexthops).union(neighbours).union(fdb) }
    /// What forwards: routes without their nexthop ids, neighbours and FDB entries (the same
    /// for plain routes and routes through nexthop objects).
    var forwarding: Set<String> {
      Set(routes.map { $0.replacing(#/ nhid [0-9]+$/#, with: "") }).union(neighbours).union(fdb)
    }
  }

  static func dumps(_ answers: [[String: Any]]) -> [Dump] {
    answers.compactMap { answer in
      guard let ok = answer["ok"] as? [String: Any], let routes = ok["routes"] as? [String]
      else { return nil }
      return Dump(
        routes: Set(routes), nexthops: Set(ok["nexthops"] as? [String] ?? []),
        neighbours: Set(ok["neighbours"] as? [String] ?? []),
        fdb: Set(ok["fdb"] as? [String] ?? []))
    }
  }

  /// Runs `lines` and then `dump`; every answer must be ok. `plain`: without nexthop objects.
  static func run(
    _ lab: BackendLab, _ type: String, _ backend: String, plain: Bool = false, _ lines: [String]
  ) throws -> Dump {
    let (answers, logs, _) = try lab.run(
      type, backend: backend, plainRoutes: plain, lines + ["dump"])
    let errors = answers.filter { $0["error"] != nil }
    #expect(errors.isEmpty, "\(errors) logs: \(logs.suffix(20))")
    return try #require(dumps(answers).last)
  }

  // MARK: - one event, exactly its objects

  /// `after` differs from `before` by exactly `added` and `removed` (forwarding state) and, with
  /// nexthop objects, by the objects of those subnets' ids.
  static func expectDiff(
    _ before: Dump, _ after: Dump, added: Set<String>, removed: Set<String> = [],
    nexthopsAdded: Set<String> = [], nexthopsRemoved: Set<String> = [], plain: Bool,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(
      after.forwarding.subtracting(before.forwarding) == added, sourceLocation: sourceLocation)
    #expect(
      before.forwarding.subtracting(after.forwarding) == removed, sourceLocation: sourceLocation)
    #expect(
      after.nexthops.subtracting(before.nexthops) == (plain ? [] : nexthopsAdded),
      sourceLocation: sourceLocation)
    #expect(
      before.nexthops.subtracting(after.nexthops) == (plain ? [] : nexthopsRemoved),
      sourceLocation: sourceLocation)
  }

  /// The nexthop id of a subnet's network address (`VXLANPeer.nexthopID`).
  static func id(_ a: Int, _ b: Int, _ c: Int) -> Int { 10 << 24 | a << 16 | b << 8 | c }

  @Test(arguments: [false, true])
  func vxlanEventChangesExactlyItsLeasesEntries(plain: Bool) throws {
    let lab = try BackendLab(plain ? "bk-dxp" : "bk-dx")
    func run(_ lines: [String]) throws -> Dump {
      try Self.run(lab, "vxlan", Self.vxlan, plain: plain, lines)
    }
    let before = try run(Self.startup(Self.vxlanTable))
    #expect(before.forwarding.contains("10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink"))
    #expect(before.nexthops.count == (plain ? 0 : 3))

    // A new lease: its route, neighbour and FDB entry, and no other change in the kernel
    // (a restart with the same table changes nothing, so every change is the event's).
    var monitor = try KernelChangeMonitor(lab.ns)
    let added = try run(
      Self.startup(Self.vxlanTable) + ["add 10.1.19.0/24,192.168.100.9,vxlan,0e:00:00:00:00:19"])
    Self.expectDiff(
      before, added,
      added: [
        "10.1.19.0/24 via 10.1.19.0 dev flannel.1 onlink",
        "10.1.19.0 lladdr 0e:00:00:00:00:19 state 128",
        "0e:00:00:00:00:19 dst 192.168.100.9 state 128",
      ], nexthopsAdded: ["id \(Self.id(1, 19, 0)) via 10.1.19.0 dev flannel.1 onlink"],
      plain: plain)
    var changes = try monitor.changes()
    #expect(!changes.isEmpty)
    #expect(
      changes.allSatisfy { $0.contains("10.1.19.0") || $0.contains("0e:00:00:00:00:19") },
      "\(changes)")

    // A changed lease (new VtepMAC and PublicIP): its neighbour and FDB entry replaced.
    let table2 = Self.vxlanTable + ["10.1.19.0/24,192.168.100.9,vxlan,0e:00:00:00:00:19"]
    monitor = try KernelChangeMonitor(lab.ns)
    let changed = try run(
      Self.startup(table2) + ["add 10.1.16.0/24,192.168.100.7,vxlan,0e:00:00:00:00:26"])
    Self.expectDiff(
      added, changed,
      added: [
        "10.1.16.0 lladdr 0e:00:00:00:00:26 state 128",
        "0e:00:00:00:00:26 dst 192.168.100.7 state 128",
      ],
      removed: [
        "10.1.16.0 lladdr 0e:00:00:00:00:16 state 128",
        "0e:00:00:00:00:16 dst 192.168.100.2 state 128",
      ], plain: plain)
    changes = try monitor.changes()
    #expect(
      changes.allSatisfy {
        $0.contains("10.1.16.0") || $0.contains("0e:00:00:00:00:16")
          || $0.contains("0e:00:00:00:00:26")
      }, "\(changes)")

    // A removed lease: exactly its entries go.
    let table3 = [
      "10.1.16.0/24,192.168.100.7,vxlan,0e:00:00:00:00:26",
      "10.1.17.0/24,192.168.100.3,vxlan,0e:00:00:00:00:17",
      "10.1.18.0/24,10.99.0.3,vxlan,0e:00:00:00:00:18",
      "10.1.19.0/24,192.168.100.9,vxlan,0e:00:00:00:00:19",
    ]
    monitor = try KernelChangeMonitor(lab.ns)
    let removed = try run(
      Self.startup(table3) + ["remove 10.1.17.0/24,192.168.100.3,vxlan,0e:00:00:00:00:17"])
    Self.expectDiff(
      changed, removed, added: [],
      removed: [
        "10.1.17.0/24 via 10.1.17.0 dev flannel.1 onlink",
        "10.1.17.0 lladdr 0e:00:00:00:00:17 state 128",
        "0e:00:00:00:00:17 dst 192.168.100.3 state 128",
      ], nexthopsRemoved: ["id \(Self.id(1, 17, 0)) via 10.1.17.0 dev flannel.1 onlink"],
      plain: plain)
    changes = try monitor.changes()
    #expect(
      changes.allSatisfy { $0.contains("10.1.17.0") || $0.contains("0e:00:00:00:00:17") },
      "\(changes)")
  }

  @Test(arguments: [false, true])
  func hostGWEventChangesExactlyItsLeasesRoute(plain: Bool) throws {
    let lab = try BackendLab(plain ? "bk-dhp" : "bk-dh")
    func run(_ lines: [String]) throws -> Dump {
      try Self.run(lab, "host-gw", Self.hostGW, plain: plain, lines)
    }
    let before = try run(Self.startup(Self.hostGWTable))
    var monitor = try KernelChangeMonitor(lab.ns)
    let added = try run(
      Self.startup(Self.hostGWTable) + ["add 10.1.19.0/24,192.168.100.9,host-gw"])
    Self.expectDiff(
      before, added, added: ["10.1.19.0/24 via 192.168.100.9 dev eth0"],
      nexthopsAdded: ["id \(Self.id(1, 19, 0)) via 192.168.100.9 dev eth0"], plain: plain)
    var changes = try monitor.changes()
    #expect(
      !changes.isEmpty
        && changes.allSatisfy {
          $0.contains("10.1.19.0") || $0.contains("id \(Self.id(1, 19, 0)) ")
        },
      "\(changes)")

    let table2 = Self.hostGWTable + ["10.1.19.0/24,192.168.100.9,host-gw"]
    monitor = try KernelChangeMonitor(lab.ns)
    let removed = try run(
      Self.startup(table2) + ["remove 10.1.16.0/24,192.168.100.2,host-gw"])
    Self.expectDiff(
      added, removed, added: [], removed: ["10.1.16.0/24 via 192.168.100.2 dev eth0"],
      nexthopsRemoved: ["id \(Self.id(1, 16, 0)) via 192.168.100.2 dev eth0"], plain: plain)
    changes = try monitor.changes()
    #expect(
      !changes.isEmpty
        && changes.allSatisfy {
          $0.contains("10.1.16.0") || $0.contains("id \(Self.id(1, 16, 0)) ")
        },
      "\(changes)")
  }

  // MARK: - what a delta must not break

  /// Routes left in plain form (by stock flanneld, or by a run without nexthop objects) are
  /// kept on restart; removing the lease later must still remove them.
  @Test(arguments: ["vxlan", "host-gw"])
  func removingALeaseRemovesItsPlainRouteLeftByStock(type: String) throws {
    let lab = try BackendLab("bk-up\(type.prefix(1))")
    let backend = type == "vxlan" ? Self.vxlan : Self.hostGW
    let table = type == "vxlan" ? Self.vxlanTable : Self.hostGWTable
    let before = try Self.run(lab, type, backend, plain: true, Self.startup(table))
    #expect(before.nexthops.isEmpty)
    let after = try Self.run(
      lab, type, backend, plain: false, Self.startup(table) + ["remove " + table[0]])
    #expect(!after.routes.contains { $0.hasPrefix("10.1.16.0/24") }, "\(after.routes)")
    #expect(after.routes.contains { $0.hasPrefix("10.1.17.0/24") }, "\(after.routes)")
  }

  /// Two leases of one node share an FDB entry (VTEP MAC → public IP): removing one keeps it.
  @Test func removingOneOfTwoLeasesSharingAnFDBEntryKeepsIt() throws {
    let lab = try BackendLab("bk-fdb")
    let table = [
      "10.1.16.0/24,192.168.100.2,vxlan,0e:00:00:00:00:16",
      "10.1.17.0/24,192.168.100.2,vxlan,0e:00:00:00:00:16",
    ]
    let after = try Self.run(
      lab, "vxlan", Self.vxlan, Self.startup(table) + ["remove " + table[0]])
    #expect(after.fdb == ["0e:00:00:00:00:16 dst 192.168.100.2 state 128"])
    #expect(after.neighbours == ["10.1.17.0 lladdr 0e:00:00:00:00:16 state 128"])
    let gone = try Self.run(
      lab, "vxlan", Self.vxlan, Self.startup([table[1]]) + ["remove " + table[1]])
    #expect(gone.fdb.isEmpty && gone.neighbours.isEmpty)
  }

  // MARK: - re-list after lost history

  @Test(arguments: ["vxlan", "host-gw"], [false, true])
  func relistConvergesToAFreshStart(type: String, plain: Bool) throws {
    let backend = type == "vxlan" ? Self.vxlan : Self.hostGW
    var rng = SeededGenerator(seed: 7)
    let first = RandomLeases(type: type)
    var second = first
    for _ in 0..<60 { _ = second.step(using: &rng) }
    let t1 = first.lines
    let t2 = second.lines
    #expect(t1 != t2)

    let tag = "\(type.prefix(1))\(plain ? "p" : "")"
    let drifted = try BackendLab("bk-rl\(tag)")
    _ = try Self.run(drifted, type, backend, plain: plain, Self.startup(t1))
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
    if !plain {
      // A nexthop object of ours (id = a lease's address, on our device) no lease uses.
      let stray = "\(Self.id(1, 252, 0))"
      if type == "vxlan" {
        try drifted.ns.ip(
          "nexthop", "add", "id", stray, "via", "10.1.252.0", "dev", "flannel.1", "onlink")
      } else {
        try drifted.ns.ip("nexthop", "add", "id", stray, "via", "192.168.100.252", "dev", "eth0")
      }
    }
    let relisted = try Self.run(
      drifted, type, backend, plain: plain,
      Self.startup(t1) + ["relist " + t2.joined(separator: " ")])

    let fresh = try BackendLab("bk-rf\(tag)")
    let started = try Self.run(fresh, type, backend, plain: plain, Self.startup(t2))
    #expect(relisted.all.symmetricDifference(started.all) == [])
    #expect(started.routes.count > 10)
    #expect(started.nexthops.count == (plain ? 0 : started.routes.count - 1))
  }

  // MARK: - many events

  @Test(arguments: ["vxlan", "host-gw"], [false, true])
  func thousandRandomEventsEndWhereOneFullReconcileDoes(type: String, plain: Bool) throws {
    let backend = type == "vxlan" ? Self.vxlan : Self.hostGW
    var rng = SeededGenerator(seed: type == "vxlan" ? 11 : 13)
    var leases = RandomLeases(type: type)
    let initial = leases.lines
    var events: [String] = []
    for _ in 0..<1_000 { events.append(leases.step(using: &rng)) }
    #expect(events.contains { $0.hasPrefix("remove") } && events.contains { $0.hasPrefix("add") })

    let tag = "\(type.prefix(1))\(plain ? "p" : "")"
    let deltas = try BackendLab("bk-md\(tag)")
    let afterEvents = try Self.run(
      deltas, type, backend, plain: plain, Self.startup(initial) + events)
    let full = try BackendLab("bk-mf\(tag)")
    let reconciled = try Self.run(full, type, backend, plain: plain, Self.startup(leases.lines))
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
  mutating func step(using rng: inout SeededGenerator) -> String {
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
