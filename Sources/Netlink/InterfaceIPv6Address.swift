import CLibMnl
import FlannelCore

/// An IPv6 address assigned to a link, with the kernel's IFA_F_* flags that choosing a
/// node's IPv6 address looks at (deprecated, permanent, temporary).
public struct InterfaceIPv6Address: Sendable, Hashable, CustomStringConvertible {
  public var linkIndex: Int
  public var address: IPv6Address
  public var prefixLength: Int
  public var flags: UInt32

  public init(linkIndex: Int, address: IPv6Address, prefixLength: Int, flags: UInt32 = 0) {
    self.linkIndex = linkIndex
    self.address = address
    self.prefixLength = prefixLength
    self.flags = flags
  }

  public static let temporaryFlag = UInt32(IFA_F_TEMPORARY)
  public static let deprecatedFlag = UInt32(IFA_F_DEPRECATED)
  public static let permanentFlag = UInt32(IFA_F_PERMANENT)

  public var description: String { "\(address)/\(prefixLength)" }
}
