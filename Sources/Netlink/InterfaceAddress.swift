import FlannelCore

/// An IPv4 address assigned to a link, with its prefix length (the host bits kept, unlike
/// IPv4Network): `10.1.15.0/32 dev flannel.1`.
public struct InterfaceAddress: Sendable, Hashable, CustomStringConvertible {
  public var linkIndex: Int
  public var address: IPv4Address
  public var prefixLength: Int

  public init(linkIndex: Int, address: IPv4Address, prefixLength: Int) {
    self.linkIndex = linkIndex
    self.address = address
    self.prefixLength = prefixLength
  }

  public var description: String { "\(address)/\(prefixLength)" }
}
