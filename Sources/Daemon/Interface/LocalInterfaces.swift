import FlannelCore
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One local network interface and its IPv4 addresses, as getifaddrs reports them.
public struct LocalInterface: Sendable, Equatable {
  public var name: String
  public var index: Int
  /// In the kernel's order (the primary address of each prefix first).
  public var addresses: [IPv4Address]

  public init(name: String, index: Int, addresses: [IPv4Address]) {
    self.name = name
    self.index = index
    self.addresses = addresses
  }

  /// Go's choice for an interface's address (stock `GetInterfaceIP4Addr`): the first global
  /// unicast IPv4 address, else the first link-local one; loopback never qualifies.
  public var preferredAddress: IPv4Address? {
    addresses.first(where: IPv4Scope.isGlobalUnicast)
      ?? addresses.first(where: IPv4Scope.isLinkLocal)
  }
}

/// The address classes of Go's `net.IP` that interface selection depends on.
public enum IPv4Scope {
  public static func isLinkLocal(_ address: IPv4Address) -> Bool {
    address.value >> 16 == 0xA9FE  // 169.254.0.0/16
  }

  /// Not unspecified, loopback, multicast, link-local or the limited broadcast address.
  public static func isGlobalUnicast(_ address: IPv4Address) -> Bool {
    let v = address.value
    return v != 0 && v >> 24 != 127 && v >> 28 != 0xE && !isLinkLocal(address) && v != .max
  }
}

public enum LocalInterfaces {
  /// Every interface of this network namespace (also those without IPv4), ordered by index
  /// like Go's `net.Interfaces`. Alias labels ("eth0:1") count as their base interface.
  public static func list() -> [LocalInterface] {
    var head: UnsafeMutablePointer<ifaddrs>? = nil
    guard getifaddrs(&head) == 0 else { return [] }
    defer { freeifaddrs(head) }
    var byName: [String: LocalInterface] = [:]
    var cursor = head
    while let entry = cursor {
      defer { cursor = entry.pointee.ifa_next }
      var name = String(cString: entry.pointee.ifa_name)
      if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
      if byName[name] == nil {
        byName[name] = LocalInterface(
          name: name, index: Int(if_nametoindex(name)), addresses: [])
      }
      guard let sa = entry.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) else {
        continue
      }
      let sin = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in.self)
      byName[name]!.addresses.append(IPv4Address(UInt32(bigEndian: sin.sin_addr.s_addr)))
    }
    return byName.values.sorted { ($0.index, $0.name) < ($1.index, $1.name) }
  }

  /// The interface's MTU from sysfs (namespace-aware under `ip netns exec`), 0 if unknown.
  public static func mtu(of name: String) -> Int {
    let text = try? String(contentsOfFile: "/sys/class/net/\(name)/mtu", encoding: .utf8)
    return text.flatMap { Int($0.trimmingWhitespace()) } ?? 0
  }
}

extension String {
  func trimmingWhitespace() -> String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else {
      return ""
    }
    let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
    return String(scalars[first...last])
  }
}
