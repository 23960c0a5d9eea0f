import DataPlane
import FlannelCore

/// The network the udp backend's datagrams travel. IPv4 is the default and stock's (every
/// IPv4 and dual-stack network: the socket is AF_INET, next hops are PublicIPs); an IPv6-only
/// network (`"EnableIPv4": false`, leases with PublicIP 0.0.0.0) has only the IPv6 one: the
/// socket is AF_INET6 on the node's IPv6 address, next hops are PublicIPv6es. Stock's udp
/// backend never ran there, so this is no interop question.
public enum UDPUnderlay: Equatable, Sendable {
  case ipv4
  case ipv6

  /// The underlay of a network.
  public static func of(enableIPv4: Bool) -> UDPUnderlay { enableIPv4 ? .ipv4 : .ipv6 }

  /// Bytes each datagram adds on the wire: the outer IP header and the UDP header.
  public var overhead: Int { self == .ipv4 ? 20 + 8 : 40 + 8 }

  /// flannel0's MTU and FLANNEL_MTU: the external MTU less the outer headers.
  public func tunnelMTU(externalMTU: Int) -> Int { externalMTU - overhead }

  /// The smallest MTU a link may have and carry IPv6 (RFC 8200): below it the kernel turns
  /// IPv6 off on flannel0.
  public static let minimumIPv6MTU = 1280

  /// flannel0's MTU, refused when the network carries IPv6 inside and flannel0 could not
  /// (the daemon would otherwise fail later on a bare netlink error adding the /128).
  public func tunnelMTU(external: ExternalInterface, carriesIPv6: Bool) throws(UDPUnderlayError)
    -> Int
  {
    let mtu = tunnelMTU(externalMTU: external.mtu)
    guard !carriesIPv6 || mtu >= Self.minimumIPv6MTU else {
      throw UDPUnderlayError(
        "interface \(external.name) has MTU \(external.mtu): flannel0 would get \(mtu) (\(overhead) bytes less), below IPv6's minimum of \(Self.minimumIPv6MTU), so it could not carry the network's IPv6; raise \(external.name)'s MTU to at least \(Self.minimumIPv6MTU + overhead) or choose another interface with -iface"
      )
    }
    return mtu
  }

  /// The address the sockets bind: the external interface's IPv4 address, or its IPv6 one.
  public func bindAddress(of external: ExternalInterface) throws(UDPUnderlayError)
    -> UnderlayAddress
  {
    switch self {
    case .ipv4:
      return .ipv4(external.address.value)
    case .ipv6:
      guard let address = external.ipv6Address else {
        throw UDPUnderlayError(
          "the network is IPv6-only (\"EnableIPv4\": false), but interface \(external.name) has no IPv6 address for the udp backend's socket; give it a global IPv6 address or choose another with -iface"
        )
      }
      return .ipv6(high: address.high, low: address.low)
    }
  }

  /// Where datagrams for `lease` go: its PublicIP, or its PublicIPv6; nil when the lease has
  /// no address of this underlay (an IPv6-only peer that advertised no PublicIPv6).
  public func nextHop(for lease: Lease) -> UnderlayAddress? {
    switch self {
    case .ipv4:
      return .ipv4(lease.attrs.publicIP.value)
    case .ipv6:
      guard let address = lease.attrs.publicIPv6 else { return nil }
      return .ipv6(high: address.high, low: address.low)
    }
  }
}

public struct UDPUnderlayError: Error, CustomStringConvertible {
  public let description: String

  init(_ description: String) { self.description = description }
}
