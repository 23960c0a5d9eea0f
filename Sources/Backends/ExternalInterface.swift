import FlannelCore

/// The interface flannel sends on and the addresses it uses (flannel-behaviour §1.3):
/// `name`/`index` for the MTU and as the vxlan VTEP device, `address` (IfaceAddr) to bind
/// and to source from, `publicIP` (ExtAddr) to advertise in the lease. On a dual-stack
/// network also `ipv6Address` (IfaceV6Addr) and `publicIPv6` (ExtV6Addr, the lease's
/// PublicIPv6); both nil on an IPv4 network.
public struct ExternalInterface: Sendable, Equatable {
  public var name: String
  public var index: Int
  public var address: IPv4Address
  public var publicIP: IPv4Address
  public var mtu: Int
  public var ipv6Address: IPv6Address?
  public var publicIPv6: IPv6Address?

  public init(
    name: String, index: Int, address: IPv4Address, publicIP: IPv4Address, mtu: Int,
    ipv6Address: IPv6Address? = nil, publicIPv6: IPv6Address? = nil
  ) {
    self.name = name
    self.index = index
    self.address = address
    self.publicIP = publicIP
    self.mtu = mtu
    self.ipv6Address = ipv6Address
    self.publicIPv6 = publicIPv6
  }
}
