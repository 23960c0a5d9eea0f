import FlannelCore

/// The dual-stack half of stock's LookupExtIface (HEAD, pkg/ipmatch): which IPv6 address of
/// the chosen interface the node uses (IfaceV6Addr), and which one it advertises
/// (ExtV6Addr: -public-ipv6, else IfaceV6Addr).
extension InterfaceSelector {
  /// What a dual-stack selection is asked for.
  public struct IPv6Request: Sendable, Equatable {
    /// `-public-ipv6`, "" when not given.
    public var publicIPv6: String

    public init(publicIPv6: String) {
      self.publicIPv6 = publicIPv6
    }

    func parsedPublicIPv6() throws -> IPv6Address? {
      guard !publicIPv6.isEmpty else { return nil }
      // A dotted quad parses (as ::ffff:a.b.c.d) but is no IPv6 address for a lease.
      guard let address = IPv6Address(publicIPv6), address.ipv4Mapped == nil else {
        throw InterfaceSelectionError("invalid public IPv6 address: \(publicIPv6)")
      }
      return address
    }
  }

  enum Stack: Equatable {
    case ipv4
    /// With the parsed -public-ipv6, if given.
    case dual(publicIPv6: IPv6Address?)
  }

  /// Adds the IPv6 address to an IPv4 match. `publicIPv6Applies`: the interface was found by
  /// an IPv4 address (-iface=<IP>, -public-ip), where stock requires -public-ipv6 to sit on
  /// the same interface and uses it as the interface's IPv6 address; by name, default route
  /// or reachability it takes the interface's first usable IPv6 address.
  static func withIPv6(
    _ match: Match, _ stack: Stack, _ interfaces: [LocalInterface],
    publicIPv6Applies: Bool = true
  ) throws -> Match {
    guard case .dual(let publicIPv6) = stack else { return match }
    var result = match
    if publicIPv6Applies, let publicIPv6 {
      let owner = try ipv6Owner(publicIPv6, interfaces)
      guard owner.name == match.interface.name else {
        throw InterfaceSelectionError(
          "v6 interface \(owner.name) must be the same with v4 interface \(match.interface.name)")
      }
      result.ipv6Address = publicIPv6
      return result
    }
    guard let address = match.interface.preferredIPv6Address else {
      throw noIPv6(on: match.interface)
    }
    result.ipv6Address = address
    return result
  }

  /// The interface holding `address` (-public-ipv6 alone, or -iface=<IPv6 address>), with its
  /// first usable IPv4 address.
  static func byIPv6Address(_ address: IPv6Address, _ interfaces: [LocalInterface]) throws
    -> Match
  {
    let owner = try ipv6Owner(address, interfaces)
    var match = try withPreferredAddress(owner)
    match.ipv6Address = address
    return match
  }

  static func ipv6Owner(_ address: IPv6Address, _ interfaces: [LocalInterface]) throws
    -> LocalInterface
  {
    guard
      let owner = interfaces.first(where: { $0.ipv6Addresses.contains { $0.address == address } })
    else {
      throw InterfaceSelectionError(
        "error looking up v6 interface \(address): no interface with given IPv6 found")
    }
    return owner
  }

  /// Stock's dual-stack regex walk: the first interface with both families whose IPv4 and
  /// IPv6 addresses each have one the pattern matches; else the first interface whose name
  /// matches, with its first usable address of each family.
  static func byRegexDualStack(
    _ pattern: String, _ regex: Regex<AnyRegexOutput>, _ interfaces: [LocalInterface]
  ) throws -> Match {
    for interface in interfaces {
      let ipv6 = interface.usableIPv6Addresses
      guard !interface.addresses.isEmpty, !ipv6.isEmpty,
        let address = interface.addresses.first(where: { $0.description.contains(regex) }),
        let address6 = ipv6.first(where: { $0.description.contains(regex) })
      else { continue }
      return Match(interface: interface, address: address, ipv6Address: address6)
    }
    if let interface = interfaces.first(where: { $0.name.contains(regex) }) {
      return try withIPv6(
        withPreferredAddress(interface), .dual(publicIPv6: nil), interfaces,
        publicIPv6Applies: false)
    }
    throw InterfaceSelectionError(
      "Could not match pattern \(pattern) to any of the available network interfaces (\(interfaces.map(\.name).joined(separator: ", ")))"
    )
  }

  /// A dual-stack network on an interface without a usable IPv6 address: stock's words, and
  /// the ways out.
  static func noIPv6(on interface: LocalInterface) -> InterfaceSelectionError {
    InterfaceSelectionError(
      "failed to find IPv6 address for interface \(interface.name); the network config has EnableIPv6: give \(interface.name) a global or link-local IPv6 address, pick an interface that has one with -iface, or remove EnableIPv6 from the config"
    )
  }
}
