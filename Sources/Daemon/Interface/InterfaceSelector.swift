import Backends
import FlannelCore
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

public struct InterfaceSelectionError: Error, CustomStringConvertible {
  public let description: String
}

/// One IPv4 address of a local interface, as getifaddrs reports it.
public struct LocalAddress: Sendable, Equatable {
  public var interface: String
  public var address: String
}

public enum InterfaceSelector {
  /// Every IPv4 address of every local interface, in the kernel's order.
  public static func localAddresses() -> [LocalAddress] {
    var head: UnsafeMutablePointer<ifaddrs>? = nil
    guard getifaddrs(&head) == 0, let first = head else { return [] }
    defer { freeifaddrs(head) }
    var result: [LocalAddress] = []
    var cursor: UnsafeMutablePointer<ifaddrs>? = first
    while let entry = cursor {
      defer { cursor = entry.pointee.ifa_next }
      guard let sa = entry.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) else {
        continue
      }
      var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
      var sin = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
      inet_ntop(AF_INET, &sin.sin_addr, &text, socklen_t(INET_ADDRSTRLEN))
      let name = String(cString: entry.pointee.ifa_name)
      let address = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
      result.append(LocalAddress(interface: name, address: address))
    }
    return result
  }

  /// Picks the external interface: each `-iface` value in order (an IPv4 address or a name),
  /// else the interface of the default route. `-public-ip` overrides the advertised address.
  public static func select(ifaces: [String], publicIP: String?) throws -> ExternalInterface {
    let addresses = localAddresses()
    var chosen: LocalAddress? = nil
    if !ifaces.isEmpty {
      for wanted in ifaces {
        if let hit = addresses.first(where: { $0.address == wanted || $0.interface == wanted }) {
          chosen = hit
          break
        }
      }
      guard chosen != nil else {
        throw InterfaceSelectionError(
          description:
            "Failed to find interface to use that matches the interfaces and/or regexes provided (-iface \(ifaces.joined(separator: ", "))); local IPv4 interfaces: \(describe(addresses))"
        )
      }
    } else if let publicIP, let owner = addresses.first(where: { $0.address == publicIP }) {
      chosen = owner
    } else {
      let routes = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
      guard let name = ProcNetRoute.defaultRouteInterface(in: routes) else {
        throw InterfaceSelectionError(
          description:
            "Failed to get default interface: this host has no IPv4 default route. Name the interface with -iface=<name or IP>"
        )
      }
      guard let hit = addresses.first(where: { $0.interface == name }) else {
        throw InterfaceSelectionError(
          description:
            "failed to find IPv4 address for interface \(name) (the default route's interface); name another one with -iface"
        )
      }
      chosen = hit
    }
    let hit = chosen!
    let mtu =
      Int(
        ((try? String(contentsOfFile: "/sys/class/net/\(hit.interface)/mtu", encoding: .utf8)) ?? "")
          .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    guard mtu > 0 else {
      throw InterfaceSelectionError(
        description: "failed to read the MTU of interface \(hit.interface)")
    }
    guard let address = IPv4Address(hit.address),
      let advertised = IPv4Address(publicIP ?? hit.address)
    else {
      throw InterfaceSelectionError(description: "invalid IPv4 address \(publicIP ?? hit.address)")
    }
    return ExternalInterface(
      name: hit.interface, index: Int(if_nametoindex(hit.interface)), address: address,
      publicIP: advertised, mtu: mtu)
  }

  static func describe(_ addresses: [LocalAddress]) -> String {
    addresses.isEmpty
      ? "none" : addresses.map { "\($0.interface) \($0.address)" }.joined(separator: ", ")
  }
}
