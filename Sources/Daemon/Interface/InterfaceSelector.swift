import Backends
import FlannelCore
import Foundation
import Netlink

#if canImport(Glibc)
  import Glibc
#endif

public struct InterfaceSelectionError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// What the kernel side of interface selection answers; `live` asks this network namespace
/// (rtnetlink, and a UDP connect for -iface-can-reach). Tests replace it with fixed tables.
public struct InterfaceEnvironment: Sendable {
  public var interfaces: @Sendable () throws -> [LocalInterface]
  public var defaultRouteInterface: @Sendable () throws -> String?
  /// The device of the first IPv6 default route; asked only for a dual-stack network.
  public var ipv6DefaultRouteInterface: @Sendable () throws -> String?
  public var sourceAddress: @Sendable (IPv4Address) -> Result<IPv4Address, RouteProbe.Failure>
  public var mtu: @Sendable (String) throws -> Int

  public init(
    interfaces: @escaping @Sendable () throws -> [LocalInterface],
    defaultRouteInterface: @escaping @Sendable () throws -> String?,
    sourceAddress: @escaping @Sendable (IPv4Address) -> Result<IPv4Address, RouteProbe.Failure>,
    mtu: @escaping @Sendable (String) throws -> Int,
    ipv6DefaultRouteInterface: @escaping @Sendable () throws -> String? = { nil }
  ) {
    self.interfaces = interfaces
    self.defaultRouteInterface = defaultRouteInterface
    self.ipv6DefaultRouteInterface = ipv6DefaultRouteInterface
    self.sourceAddress = sourceAddress
    self.mtu = mtu
  }

  /// One netlink socket per question: selection runs once, at startup.
  public static let live = InterfaceEnvironment(
    interfaces: { try LocalInterfaces.list(through: NetlinkSocket()) },
    defaultRouteInterface: { try LocalInterfaces.defaultRouteInterface(through: NetlinkSocket()) },
    sourceAddress: RouteProbe.sourceAddress(toward:),
    mtu: { try LocalInterfaces.mtu(of: $0, through: NetlinkSocket()) },
    ipv6DefaultRouteInterface: {
      try LocalInterfaces.ipv6DefaultRouteInterface(through: NetlinkSocket())
    })
}

/// Stock flanneld's external interface selection (flannel-behaviour §1.3, HEAD order):
/// without -iface/-iface-regex/-iface-can-reach, the interface owning -public-ip or else the
/// default route's; otherwise each -iface (IP or name) in order, then each -iface-regex
/// (addresses of all interfaces first, then names), then -iface-can-reach.
public enum InterfaceSelector {
  /// The selection options of `FlanneldOptions`; `dualStack` for a network with EnableIPv6
  /// (the IPv6 address is chosen too, and -public-ipv6 is read).
  public static func select(
    options: FlanneldOptions, dualStack: Bool = false,
    environment: InterfaceEnvironment = .live, onAttemptFailed: (String) -> Void = { _ in }
  ) throws -> ExternalInterface {
    try select(
      ifaces: options.iface, ifaceRegexes: options.ifaceRegex,
      ifaceCanReach: options.ifaceCanReach.isEmpty ? nil : options.ifaceCanReach,
      publicIP: options.publicIP.isEmpty ? nil : options.publicIP,
      ipv6: dualStack ? .init(publicIPv6: options.publicIPv6) : nil, environment: environment,
      onAttemptFailed: onAttemptFailed)
  }

  /// `onAttemptFailed` receives one line per -iface/-iface-regex/-iface-can-reach value that
  /// matched nothing (stock logs them at info as "Could not find valid interface matching …").
  /// `ipv6`: also choose the node's IPv6 address (dual-stack), as stock's LookupExtIface
  /// does for its dual stack; nil: IPv4 only.
  public static func select(
    ifaces: [String], ifaceRegexes: [String] = [], ifaceCanReach: String? = nil,
    publicIP: String?, ipv6: IPv6Request? = nil, environment: InterfaceEnvironment = .live,
    onAttemptFailed: (String) -> Void = { _ in }
  ) throws -> ExternalInterface {
    var advertised: IPv4Address? = nil
    if let publicIP {
      guard let parsed = IPv4Address(publicIP) else {
        throw InterfaceSelectionError("invalid public IP address: \(publicIP)")
      }
      advertised = parsed
    }
    let stack = try ipv6.map { try Stack.dual(publicIPv6: $0.parsedPublicIPv6()) } ?? .ipv4
    let interfaces: [LocalInterface]
    do {
      interfaces = try environment.interfaces()
    } catch {
      throw InterfaceSelectionError("failed to list the local interfaces: \(error)")
    }
    let found: Match
    if ifaces.isEmpty && ifaceRegexes.isEmpty && ifaceCanReach == nil {
      do {
        found = try byDefault(publicIP: advertised, stack, interfaces, environment)
      } catch {
        throw InterfaceSelectionError("Failed to find any valid interface to use: \(error)")
      }
    } else {
      // Tried in order, the first match wins: each -iface, each -iface-regex, then
      // -iface-can-reach.
      var candidates: [(label: String, find: () throws -> Match)] = []
      for wanted in ifaces {
        candidates.append((wanted, { try byNameOrAddress(wanted, stack, interfaces) }))
      }
      for pattern in ifaceRegexes {
        candidates.append((pattern, { try byRegex(pattern, stack, interfaces) }))
      }
      if let ifaceCanReach {
        let label = "ifaceCanReach: \(ifaceCanReach)"
        candidates.append(
          (label, { try byReachability(ifaceCanReach, stack, interfaces, environment) }))
      }
      found = try firstMatch(candidates, interfaces, onAttemptFailed: onAttemptFailed)
    }
    let mtu = try checkedMTU(of: found.interface.name, environment)
    var chosen = ExternalInterface(
      name: found.interface.name, index: found.interface.index, address: found.address,
      publicIP: advertised ?? found.address, mtu: mtu)
    if case .dual(let publicIPv6) = stack {
      chosen.ipv6Address = found.ipv6Address
      chosen.publicIPv6 = publicIPv6 ?? found.ipv6Address
    }
    return chosen
  }

  /// The startup log lines of stock flanneld for the chosen interface (the IPv6 ones when
  /// the node is dual-stack).
  public static func startupLogLines(_ chosen: ExternalInterface) -> [String] {
    var lines = ["Using interface with name \(chosen.name) and address \(chosen.address)"]
    if let ipv6 = chosen.ipv6Address {
      lines.append("Using interface with name \(chosen.name) and v6 address \(ipv6)")
    }
    lines.append("Using \(chosen.publicIP) as external address")
    if let publicIPv6 = chosen.publicIPv6 {
      lines.append("Using \(publicIPv6) as external address")
    }
    return lines
  }

  /// The first candidate that finds an interface; each that fails is reported through
  /// `onAttemptFailed` and named in the error when none finds one.
  static func firstMatch<Found>(
    _ candidates: [(label: String, find: () throws -> Found)], _ interfaces: [LocalInterface],
    onAttemptFailed: (String) -> Void
  ) throws -> Found {
    var failures: [String] = []
    for candidate in candidates {
      do {
        return try candidate.find()
      } catch {
        let line = "Could not find valid interface matching \(candidate.label): \(error)"
        failures.append(line)
        onAttemptFailed(line)
      }
    }
    throw InterfaceSelectionError(
      "Failed to find interface to use that matches the interfaces and/or regexes provided ("
        + failures.joined(separator: "; ") + "); local interfaces: " + describe(interfaces))
  }

  static func checkedMTU(of name: String, _ environment: InterfaceEnvironment) throws -> Int {
    let mtu: Int
    do {
      mtu = try environment.mtu(name)
    } catch {
      throw InterfaceSelectionError("failed to determine MTU for \(name) interface: \(error)")
    }
    guard mtu > 0 else {
      throw InterfaceSelectionError("failed to determine MTU for \(name) interface")
    }
    return mtu
  }

  struct Match: Equatable {
    var interface: LocalInterface
    var address: IPv4Address
    /// Dual-stack only: the interface's IPv6 address (IfaceV6Addr).
    var ipv6Address: IPv6Address? = nil
  }

  static func byDefault(
    publicIP: IPv4Address?, _ stack: Stack, _ interfaces: [LocalInterface],
    _ environment: InterfaceEnvironment
  ) throws -> Match {
    if let publicIP {
      // ≥v0.12: -public-ip alone selects the interface that owns it (a NAT'd public IP
      // therefore needs -iface as well).
      guard let owner = interfaces.first(where: { $0.addresses.contains(publicIP) }) else {
        throw InterfaceSelectionError(
          "no local interface has the -public-ip address \(publicIP); if it is a NAT address, name the local interface with -iface=<name or IP>"
        )
      }
      return try withIPv6(Match(interface: owner, address: publicIP), stack, interfaces)
    }
    if case .dual(let publicIPv6?) = stack {
      // Stock: -public-ipv6 alone selects the interface that owns it.
      return try byIPv6Address(publicIPv6, interfaces)
    }
    guard let name = try environment.defaultRouteInterface() else {
      throw InterfaceSelectionError(
        "failed to get default interface: this host has no IPv4 default route; name the interface with -iface=<name or IP>"
      )
    }
    guard let interface = interfaces.first(where: { $0.name == name }), interface.index > 0
    else {
      throw InterfaceSelectionError("failed to get default interface: no such interface \(name)")
    }
    let match = try withPreferredAddress(interface)
    guard case .dual = stack else { return match }
    guard let ipv6Name = try environment.ipv6DefaultRouteInterface() else {
      throw InterfaceSelectionError(
        "failed to get default v6 interface: unable to find default v6 route; add an IPv6 default route, or name the interface with -iface=<name or IP> or its IPv6 address with -public-ipv6"
      )
    }
    guard ipv6Name == name else {
      throw InterfaceSelectionError(
        "v6 default route interface \(ipv6Name) must be the same with v4 default route interface \(name)"
      )
    }
    return try withIPv6(match, stack, interfaces, publicIPv6Applies: false)
  }

  static func byNameOrAddress(
    _ wanted: String, _ stack: Stack, _ interfaces: [LocalInterface]
  ) throws -> Match {
    if let address = IPv4Address(wanted) {
      guard let owner = interfaces.first(where: { $0.addresses.contains(address) }) else {
        throw InterfaceSelectionError(
          "error looking up interface \(wanted): no interface has this address")
      }
      return try withIPv6(Match(interface: owner, address: address), stack, interfaces)
    }
    if case .dual = stack, wanted.contains(":"), let address = IPv6Address(wanted),
      address.ipv4Mapped == nil
    {
      return try byIPv6Address(address, interfaces)
    }
    guard let interface = interfaces.first(where: { $0.name == wanted }) else {
      throw InterfaceSelectionError(
        "error looking up interface \(wanted): no such network interface")
    }
    // By name, -public-ipv6 is only what the lease advertises (as stock).
    return try withIPv6(
      withPreferredAddress(interface), stack, interfaces, publicIPv6Applies: false)
  }

  static func byRegex(
    _ pattern: String, _ stack: Stack, _ interfaces: [LocalInterface]
  ) throws -> Match {
    let regex: Regex<AnyRegexOutput>
    do {
      regex = try Regex(pattern)
    } catch {
      throw InterfaceSelectionError("invalid regex \(pattern): \(error)")
    }
    if case .dual = stack { return try byRegexDualStack(pattern, regex, interfaces) }
    // Unanchored search, like Go's regexp.MatchString: every address of every interface
    // first (HEAD; v0.10 only looked at one address per interface, issue #981) ...
    for interface in interfaces {
      for address in interface.addresses where address.description.contains(regex) {
        return Match(interface: interface, address: address)
      }
    }
    // ... then the interface names.
    if let interface = interfaces.first(where: { $0.name.contains(regex) }) {
      return try withPreferredAddress(interface)
    }
    throw InterfaceSelectionError(
      "Could not match pattern \(pattern) to any of the available network interfaces (\(interfaces.map(\.name).joined(separator: ", ")))"
    )
  }

  /// The interface holding the source address the kernel would use toward `target`. Stock
  /// asks netlink for the route (`ip route get`) and takes the route's device; we ask the
  /// kernel through a UDP connect (see `RouteProbe`) and take the owner of the source
  /// address. The two differ only for a route whose `src` lives on another device, and for
  /// a local target (stock: `lo`; ours: the interface holding that address).
  static func byReachability(
    _ target: String, _ stack: Stack, _ interfaces: [LocalInterface],
    _ environment: InterfaceEnvironment
  ) throws -> Match {
    guard let destination = IPv4Address(target) else {
      throw InterfaceSelectionError("invalid -iface-can-reach address \(target)")
    }
    switch environment.sourceAddress(destination) {
    case .failure(.unreachable(let code)), .failure(.socket(let code)):
      throw InterfaceSelectionError("no route to \(target): \(String(cString: strerror(code)))")
    case .success(let source):
      guard let owner = interfaces.first(where: { $0.addresses.contains(source) }) else {
        throw InterfaceSelectionError(
          "the route to \(target) uses source address \(source), which no interface holds")
      }
      return try withIPv6(
        Match(interface: owner, address: source), stack, interfaces, publicIPv6Applies: false)
    }
  }

  static func withPreferredAddress(_ interface: LocalInterface) throws -> Match {
    guard let address = interface.preferredAddress else {
      throw InterfaceSelectionError("failed to find IPv4 address for interface \(interface.name)")
    }
    return Match(interface: interface, address: address)
  }

  static func describe(_ interfaces: [LocalInterface]) -> String {
    interfaces.isEmpty
      ? "none"
      : interfaces.map {
        "\($0.name) [\(($0.addresses.map(\.description) + $0.ipv6Addresses.map { "\($0.address)" }).joined(separator: " "))]"
      }.joined(separator: ", ")
  }
}
