import Backends
import FlannelCore

/// The IPv6-only half of stock's LookupExtIface (HEAD, pkg/ipmatch, ipv6Stack): for a network
/// with `"EnableIPv4": false` the node needs no IPv4 address at all. IfaceV6Addr is the
/// -iface IPv6 address, the first IPv6 address a -iface-regex matches, or the chosen
/// interface's first usable IPv6 address; ExtV6Addr is -public-ipv6, else IfaceV6Addr. The
/// IPv4 fields hold 0.0.0.0 (the PublicIP stock writes into an IPv6-only lease) unless
/// -public-ip names one.
extension InterfaceSelector {
  public static func selectIPv6Only(
    options: FlanneldOptions, environment: InterfaceEnvironment = .live,
    onAttemptFailed: (String) -> Void = { _ in }
  ) throws -> ExternalInterface {
    var advertised = IPv4Address(0)
    if !options.publicIP.isEmpty {
      guard let parsed = IPv4Address(options.publicIP) else {
        throw InterfaceSelectionError("invalid public IP address: \(options.publicIP)")
      }
      advertised = parsed
    }
    let publicIPv6 = try IPv6Request(publicIPv6: options.publicIPv6).parsedPublicIPv6()
    let interfaces: [LocalInterface]
    do {
      interfaces = try environment.interfaces()
    } catch {
      throw InterfaceSelectionError("failed to list the local interfaces: \(error)")
    }
    let found: (interface: LocalInterface, address: IPv6Address)
    if options.iface.isEmpty && options.ifaceRegex.isEmpty && options.ifaceCanReach.isEmpty {
      found = try ipv6ByDefault(publicIPv6: publicIPv6, interfaces, environment)
    } else {
      var candidates: [(label: String, find: () throws -> (LocalInterface, IPv6Address))] = []
      for wanted in options.iface {
        candidates.append((wanted, { try ipv6ByNameOrAddress(wanted, interfaces) }))
      }
      for pattern in options.ifaceRegex {
        candidates.append((pattern, { try ipv6ByRegex(pattern, interfaces) }))
      }
      if !options.ifaceCanReach.isEmpty {
        candidates.append(
          (
            "ifaceCanReach: \(options.ifaceCanReach)",
            {
              throw InterfaceSelectionError(
                "-iface-can-reach is not supported on an IPv6-only network; name the interface with -iface=<name or IPv6 address> or -iface-regex"
              )
            }
          ))
      }
      found = try firstMatch(candidates, interfaces, onAttemptFailed: onAttemptFailed)
    }
    let mtu = try checkedMTU(of: found.interface.name, environment)
    return ExternalInterface(
      name: found.interface.name, index: found.interface.index, address: IPv4Address(0),
      publicIP: advertised, mtu: mtu, ipv6Address: found.address,
      publicIPv6: publicIPv6 ?? found.address)
  }

  /// Stock's log lines for an IPv6-only choice (no IPv4 line): the external address is
  /// "Using" when -public-ipv6 named it, else "Defaulting" to the interface's.
  public static func ipv6OnlyLogLines(_ chosen: ExternalInterface, publicIPv6Given: Bool)
    -> [String]
  {
    guard let ipv6 = chosen.ipv6Address, let publicIPv6 = chosen.publicIPv6 else { return [] }
    return [
      "Using interface with name \(chosen.name) and v6 address \(ipv6)",
      publicIPv6Given
        ? "Using \(publicIPv6) as external address"
        : "Defaulting external v6 address to interface address (\(publicIPv6))",
    ]
  }

  /// -public-ipv6 alone: the interface holding it; else the IPv6 default route's interface.
  static func ipv6ByDefault(
    publicIPv6: IPv6Address?, _ interfaces: [LocalInterface], _ environment: InterfaceEnvironment
  ) throws -> (LocalInterface, IPv6Address) {
    if let publicIPv6 {
      return (try ipv6Owner(publicIPv6, interfaces), publicIPv6)
    }
    guard let name = try environment.ipv6DefaultRouteInterface() else {
      throw InterfaceSelectionError(
        "failed to get default v6 interface: this host has no IPv6 default route; name the interface with -iface=<name or IPv6 address>, or its address with -public-ipv6"
      )
    }
    guard let interface = interfaces.first(where: { $0.name == name }), interface.index > 0
    else {
      throw InterfaceSelectionError("failed to get default v6 interface: no such interface \(name)")
    }
    return (interface, try preferredIPv6(interface))
  }

  static func ipv6ByNameOrAddress(_ wanted: String, _ interfaces: [LocalInterface]) throws
    -> (LocalInterface, IPv6Address)
  {
    if wanted.contains(":"), let address = IPv6Address(wanted), address.ipv4Mapped == nil {
      return (try ipv6Owner(address, interfaces), address)
    }
    if IPv4Address(wanted) != nil {
      throw InterfaceSelectionError(
        "-iface=\(wanted) is an IPv4 address, but the network is IPv6-only (\"EnableIPv4\": false); give the interface's name or IPv6 address"
      )
    }
    guard let interface = interfaces.first(where: { $0.name == wanted }) else {
      throw InterfaceSelectionError(
        "error looking up interface \(wanted): no such network interface")
    }
    return (interface, try preferredIPv6(interface))
  }

  /// The first IPv6 address of any interface the pattern matches, then interface names.
  static func ipv6ByRegex(_ pattern: String, _ interfaces: [LocalInterface]) throws
    -> (LocalInterface, IPv6Address)
  {
    let regex: Regex<AnyRegexOutput>
    do {
      regex = try Regex(pattern)
    } catch {
      throw InterfaceSelectionError("invalid regex \(pattern): \(error)")
    }
    for interface in interfaces {
      for address in interface.usableIPv6Addresses where address.description.contains(regex) {
        return (interface, address)
      }
    }
    if let interface = interfaces.first(where: { $0.name.contains(regex) }) {
      return (interface, try preferredIPv6(interface))
    }
    throw InterfaceSelectionError(
      "Could not match pattern \(pattern) to any of the available network interfaces (\(interfaces.map(\.name).joined(separator: ", ")))"
    )
  }

  private static func preferredIPv6(_ interface: LocalInterface) throws -> IPv6Address {
    guard let address = interface.preferredIPv6Address else {
      throw InterfaceSelectionError(
        "failed to find IPv6 address for interface \(interface.name); the network is IPv6-only: give \(interface.name) a global or link-local IPv6 address, or pick an interface that has one with -iface"
      )
    }
    return address
  }
}
