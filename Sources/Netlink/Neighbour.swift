import CLibMnl
import FlannelCore

/// An IPv4 neighbour (ARP) entry: `ip → mac` on a link.
public struct Neighbour: Sendable, Hashable {
  public var linkIndex: Int
  public var ip: IPv4Address
  /// nil for entries still being resolved (INCOMPLETE / FAILED).
  public var mac: MACAddress?
  /// NUD_* bits; NUD_PERMANENT is 0x80.
  public var state: UInt16

  public static let permanent = UInt16(NUD_PERMANENT)

  public init(
    linkIndex: Int, ip: IPv4Address, mac: MACAddress?, state: UInt16 = Neighbour.permanent
  ) {
    self.linkIndex = linkIndex
    self.ip = ip
    self.mac = mac
    self.state = state
  }

  public var isPermanent: Bool { state & Self.permanent != 0 }
}

/// A bridge forwarding entry on a vxlan device (`bridge fdb … self`): frames for `mac`
/// are encapsulated to `destination`.
public struct FDBEntry: Sendable, Hashable {
  public var linkIndex: Int
  public var mac: MACAddress
  /// NDA_DST, the remote VTEP; nil for entries without one.
  public var destination: IPv4Address?
  public var state: UInt16
  /// NTF_SELF: the entry belongs to the device itself, not to a bridge master.
  public var isSelf: Bool

  public init(
    linkIndex: Int, mac: MACAddress, destination: IPv4Address?,
    state: UInt16 = Neighbour.permanent, isSelf: Bool = true
  ) {
    self.linkIndex = linkIndex
    self.mac = mac
    self.destination = destination
    self.state = state
    self.isSelf = isSelf
  }

  public var isPermanent: Bool { state & Neighbour.permanent != 0 }
}
