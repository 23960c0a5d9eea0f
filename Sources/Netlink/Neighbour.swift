import CLibMnl
import FlannelCore

/// A neighbour entry (ARP for IPv4, NDP for IPv6): `ip → mac` on a link.
public struct NeighbourEntry<Address: NetlinkAddress>: Sendable, Hashable {
  public var linkIndex: Int
  public var ip: Address
  /// nil for entries still being resolved (INCOMPLETE / FAILED).
  public var mac: MACAddress?
  /// NUD_* bits; NUD_PERMANENT is 0x80.
  public var state: UInt16

  public static var permanent: UInt16 { UInt16(NUD_PERMANENT) }

  public init(
    linkIndex: Int, ip: Address, mac: MACAddress?, state: UInt16 = UInt16(NUD_PERMANENT)
  ) {
    self.linkIndex = linkIndex
    self.ip = ip
    self.mac = mac
    self.state = state
  }

  public var isPermanent: Bool { state & Self.permanent != 0 }
}

public typealias Neighbour = NeighbourEntry<IPv4Address>
public typealias IPv6Neighbour = NeighbourEntry<IPv6Address>

/// A bridge forwarding entry on a vxlan device (`bridge fdb … self`): frames for `mac`
/// are encapsulated to `destination`, a remote VTEP of the device's underlay family.
public struct BridgeFDBEntry<Address: NetlinkAddress>: Sendable, Hashable {
  public var linkIndex: Int
  public var mac: MACAddress
  /// NDA_DST, the remote VTEP; nil for entries without one (or of the other family).
  public var destination: Address?
  public var state: UInt16
  /// NTF_SELF: the entry belongs to the device itself, not to a bridge master.
  public var isSelf: Bool

  public init(
    linkIndex: Int, mac: MACAddress, destination: Address?,
    state: UInt16 = UInt16(NUD_PERMANENT), isSelf: Bool = true
  ) {
    self.linkIndex = linkIndex
    self.mac = mac
    self.destination = destination
    self.state = state
    self.isSelf = isSelf
  }

  public var isPermanent: Bool { state & UInt16(NUD_PERMANENT) != 0 }
}

public typealias FDBEntry = BridgeFDBEntry<IPv4Address>
public typealias IPv6FDBEntry = BridgeFDBEntry<IPv6Address>
