import FlannelCore

/// The interface flannel sends on and the addresses it uses (flannel-behaviour §1.3):
/// `name`/`index` for the MTU and as the vxlan VTEP device, `address` (IfaceAddr) to bind
/// and to source from, `publicIP` (ExtAddr) to advertise in the lease.
public struct ExternalInterface: Sendable, Equatable {
  public var name: String
  public var index: Int
  public var address: IPv4Address
  public var publicIP: IPv4Address
  public var mtu: Int

  public init(name: String, index: Int, address: IPv4Address, publicIP: IPv4Address, mtu: Int) {
    self.name = name
    self.index = index
    self.address = address
    self.publicIP = publicIP
    self.mtu = mtu
  }
}
