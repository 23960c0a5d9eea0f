import Backends
import FlannelCore
import Testing

@testable import Daemon

/// Selection logic over fixed interface tables (no kernel).
@Suite struct InterfaceSelectorTests {
  static let table = [
    LocalInterface(name: "lo", index: 1, addresses: [ip("127.0.0.1")]),
    LocalInterface(name: "eth0", index: 2, addresses: [ip("10.0.2.15")]),
    LocalInterface(name: "eth1", index: 3, addresses: [ip("169.254.3.3"), ip("192.168.50.11")]),
    LocalInterface(name: "eth2", index: 4, addresses: [ip("192.168.60.7"), ip("10.9.0.1")]),
    LocalInterface(name: "ll0", index: 5, addresses: [ip("169.254.9.9")]),
    LocalInterface(name: "bare0", index: 6, addresses: []),
  ]

  static func ip(_ text: String) -> IPv4Address { IPv4Address(text)! }

  static func environment(
    defaultRoute: String? = "eth0", mtu: Int = 1500,
    source: @escaping @Sendable (IPv4Address) -> Result<IPv4Address, RouteProbe.Failure> = {
      _ in .failure(.unreachable(errno: 101))
    }
  ) -> InterfaceEnvironment {
    InterfaceEnvironment(
      interfaces: { table }, defaultRouteInterface: { defaultRoute }, sourceAddress: source,
      mtu: { _ in mtu })
  }

  struct Case: Sendable, CustomStringConvertible {
    var description: String
    var ifaces: [String] = []
    var regexes: [String] = []
    var canReach: String? = nil
    var publicIP: String? = nil
    /// "name address publicIP", or nil when selection must fail.
    var expected: String?
  }

  static let cases: [Case] = [
    Case(description: "default route", expected: "eth0 10.0.2.15 10.0.2.15"),
    Case(
      description: "public-ip alone picks its owner", publicIP: "192.168.60.7",
      expected: "eth2 192.168.60.7 192.168.60.7"),
    Case(description: "public-ip nobody owns fails", publicIP: "203.0.113.1", expected: nil),
    Case(
      description: "iface by name: first global unicast, not link-local",
      ifaces: ["eth1"], expected: "eth1 192.168.50.11 192.168.50.11"),
    Case(
      description: "iface by name: link-local when nothing else", ifaces: ["ll0"],
      expected: "ll0 169.254.9.9 169.254.9.9"),
    Case(
      description: "iface by secondary IP keeps that IP", ifaces: ["10.9.0.1"],
      expected: "eth2 10.9.0.1 10.9.0.1"),
    Case(
      description: "iface values tried in order", ifaces: ["nope", "10.1.1.1", "eth2", "eth1"],
      expected: "eth2 192.168.60.7 192.168.60.7"),
    Case(
      description: "iface with public-ip advertises the public IP", ifaces: ["eth1"],
      publicIP: "203.0.113.9", expected: "eth1 192.168.50.11 203.0.113.9"),
    Case(description: "iface without IPv4 fails", ifaces: ["bare0"], expected: nil),
    Case(description: "iface lo: loopback is not usable", ifaces: ["lo"], expected: nil),
    Case(
      description: "regex over every address (issue #981)", regexes: ["^10\\.9\\."],
      expected: "eth2 10.9.0.1 10.9.0.1"),
    Case(
      description: "regex: addresses before names", regexes: ["1"],
      expected: "lo 127.0.0.1 127.0.0.1"),
    Case(
      description: "regex falls back to names", regexes: ["^eth[12]$"],
      expected: "eth1 192.168.50.11 192.168.50.11"),
    Case(
      description: "regexes tried only when no iface matched", ifaces: ["eth0"],
      regexes: ["eth2"], expected: "eth0 10.0.2.15 10.0.2.15"),
    Case(
      description: "regexes after unmatched ifaces", ifaces: ["wlan0"],
      regexes: ["nomatch", "192\\.168\\.5"], expected: "eth1 192.168.50.11 192.168.50.11"),
    Case(description: "invalid regex fails", regexes: ["("], expected: nil),
    Case(
      description: "can-reach uses the kernel's source address", canReach: "192.168.60.200",
      expected: "eth2 192.168.60.7 192.168.60.7"),
    Case(
      description: "can-reach only after ifaces and regexes", ifaces: ["eth1"],
      canReach: "192.168.60.200", expected: "eth1 192.168.50.11 192.168.50.11"),
    Case(description: "can-reach unreachable fails", canReach: "8.8.8.8", expected: nil),
    Case(description: "can-reach not an IP fails", canReach: "example.com", expected: nil),
  ]

  @Test(arguments: cases)
  func selects(_ c: Case) throws {
    // The fake route table: 192.168.60.0/24 through eth2's primary address, nothing else.
    let env = Self.environment(source: { destination in
      destination.value >> 8 == Self.ip("192.168.60.0").value >> 8
        ? .success(Self.ip("192.168.60.7")) : .failure(.unreachable(errno: 101))
    })
    let run = {
      try InterfaceSelector.select(
        ifaces: c.ifaces, ifaceRegexes: c.regexes, ifaceCanReach: c.canReach,
        publicIP: c.publicIP, environment: env)
    }
    if let expected = c.expected {
      let chosen = try run()
      #expect("\(chosen.name) \(chosen.address) \(chosen.publicIP)" == expected)
      #expect(chosen.mtu == 1500)
      #expect(chosen.index == Self.table.first { $0.name == chosen.name }!.index)
    } else {
      #expect(throws: InterfaceSelectionError.self) { try run() }
    }
  }

  @Test func failedAttemptsAreReportedAndNamedInTheError() throws {
    var lines: [String] = []
    let error = #expect(throws: InterfaceSelectionError.self) {
      try InterfaceSelector.select(
        ifaces: ["wlan0"], ifaceRegexes: ["^zz"], publicIP: nil,
        environment: Self.environment(), onAttemptFailed: { lines.append($0) })
    }
    #expect(
      lines == [
        "Could not find valid interface matching wlan0: error looking up interface wlan0: no such network interface",
        "Could not find valid interface matching ^zz: Could not match pattern ^zz to any of the available network interfaces (lo, eth0, eth1, eth2, ll0, bare0)",
      ])
    #expect(
      error?.description.hasPrefix(
        "Failed to find interface to use that matches the interfaces and/or regexes provided")
        == true)
  }

  @Test func noDefaultRouteAndZeroMTUFail() {
    let noRoute = #expect(throws: InterfaceSelectionError.self) {
      try InterfaceSelector.select(
        ifaces: [], publicIP: nil, environment: Self.environment(defaultRoute: nil))
    }
    #expect(noRoute?.description.contains("no IPv4 default route") == true)
    let noMTU = #expect(throws: InterfaceSelectionError.self) {
      try InterfaceSelector.select(
        ifaces: ["eth0"], publicIP: nil, environment: Self.environment(mtu: 0))
    }
    #expect(noMTU?.description == "failed to determine MTU for eth0 interface")
  }

  @Test func startupLogLines() {
    let chosen = ExternalInterface(
      name: "eth1", index: 3, address: Self.ip("192.168.50.11"),
      publicIP: Self.ip("203.0.113.9"), mtu: 1500)
    #expect(
      InterfaceSelector.startupLogLines(chosen) == [
        "Using interface with name eth1 and address 192.168.50.11",
        "Using 203.0.113.9 as external address",
      ])
  }

  @Test(arguments: [
    ("10.0.0.1", true, false), ("192.168.1.1", true, false), ("169.254.1.1", false, true),
    ("127.0.0.1", false, false), ("224.0.0.1", false, false), ("0.0.0.0", false, false),
    ("255.255.255.255", false, false), ("8.8.8.8", true, false),
  ])
  func scopes(address: String, global: Bool, linkLocal: Bool) {
    #expect(IPv4Scope.isGlobalUnicast(Self.ip(address)) == global)
    #expect(IPv4Scope.isLinkLocal(Self.ip(address)) == linkLocal)
  }
}
