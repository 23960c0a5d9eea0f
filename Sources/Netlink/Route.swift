import FlannelCore

/// An IPv4 unicast route. Routes this project programs live in the main table.
public struct Route: Sendable, Hashable {
  public var destination: IPv4Network
  public var gateway: IPv4Address?
  /// RTA_OIF; nil lets the kernel pick the device from the gateway.
  public var outputIndex: Int?
  /// RTNH_F_ONLINK: the gateway is on the link even without a matching subnet.
  public var onlink: Bool
  public var scope: RouteScope
  public var table: UInt32

  public static let mainTable: UInt32 = 254

  public init(
    destination: IPv4Network, gateway: IPv4Address? = nil, outputIndex: Int? = nil,
    onlink: Bool = false, scope: RouteScope = .universe, table: UInt32 = Route.mainTable
  ) {
    self.destination = destination
    self.gateway = gateway
    self.outputIndex = outputIndex
    self.onlink = onlink
    self.scope = scope
    self.table = table
  }
}

/// rtm_scope: how far the destination is.
public struct RouteScope: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
  public var rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let universe = RouteScope(rawValue: 0)
  public static let link = RouteScope(rawValue: 253)
  public static let host = RouteScope(rawValue: 254)

  public var description: String {
    switch self {
    case .universe: "global"
    case .link: "link"
    case .host: "host"
    default: "\(rawValue)"
    }
  }
}
