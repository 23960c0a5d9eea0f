import FlannelCore

/// A network device as the kernel reports it (RTM_NEWLINK).
public struct Link: Sendable, Equatable {
  public var index: Int
  public var name: String
  /// IFLA_INFO_KIND ("vxlan", "veth", "bridge", "tun"); nil for devices without one (lo, …).
  public var kind: String?
  public var mtu: Int
  /// IFF_UP (administratively up).
  public var isUp: Bool
  public var mac: MACAddress?
  /// Present when `kind` is "vxlan".
  public var vxlan: VXLANAttributes?

  public init(
    index: Int, name: String, kind: String?, mtu: Int, isUp: Bool, mac: MACAddress?,
    vxlan: VXLANAttributes?
  ) {
    self.index = index
    self.name = name
    self.kind = kind
    self.mtu = mtu
    self.isUp = isUp
    self.mac = mac
    self.vxlan = vxlan
  }
}

/// The vxlan attributes flannel sets and compares (IFLA_VXLAN_*).
public struct VXLANAttributes: Sendable, Equatable {
  public var vni: UInt32
  /// Source address of encapsulated packets (IFLA_VXLAN_LOCAL); nil when unset.
  public var local: IPv4Address?
  /// The IPv6 source address (IFLA_VXLAN_LOCAL6) of a device over an IPv6 underlay.
  public var local6: IPv6Address?
  /// UDP destination port; 0 on creation means the kernel default (8472), which the kernel
  /// then reports.
  public var port: UInt16
  /// Index of the underlay device (IFLA_VXLAN_LINK); nil when unset.
  public var linkIndex: Int?
  public var learning: Bool
  /// Group Based Policy extension.
  public var gbp: Bool

  public init(
    vni: UInt32, local: IPv4Address?, local6: IPv6Address? = nil, port: UInt16, linkIndex: Int?,
    learning: Bool, gbp: Bool
  ) {
    self.vni = vni
    self.local = local
    self.local6 = local6
    self.port = port
    self.linkIndex = linkIndex
    self.learning = learning
    self.gbp = gbp
  }
}

/// Everything needed to create a vxlan device.
public struct VXLANLinkSpec: Sendable, Equatable {
  public var name: String
  public var attributes: VXLANAttributes
  /// nil: let the kernel choose.
  public var mtu: Int?
  public var mac: MACAddress?

  public init(name: String, attributes: VXLANAttributes, mtu: Int? = nil, mac: MACAddress? = nil) {
    self.name = name
    self.attributes = attributes
    self.mtu = mtu
    self.mac = mac
  }
}
