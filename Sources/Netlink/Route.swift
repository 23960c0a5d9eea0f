import CLibMnl
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
  /// RTA_NH_ID: the route points at the nexthop object with this id, which holds gateway,
  /// device and onlink (read back into the fields above). Programming such a route is a
  /// nexthop change followed by a route change (`Nexthop`).
  public var nexthopID: UInt32?

  public static let mainTable = UInt32(RT_TABLE_MAIN.rawValue)

  public init(
    destination: IPv4Network, gateway: IPv4Address? = nil, outputIndex: Int? = nil,
    onlink: Bool = false, scope: RouteScope = .universe, table: UInt32 = Route.mainTable,
    nexthopID: UInt32? = nil
  ) {
    self.destination = destination
    self.gateway = gateway
    self.outputIndex = outputIndex
    self.onlink = onlink
    self.scope = scope
    self.table = table
    self.nexthopID = nexthopID
  }

  /// The nexthop object a route with `nexthopID` needs.
  public var nexthop: Nexthop? {
    nexthopID.map { Nexthop(id: $0, gateway: gateway, outputIndex: outputIndex, onlink: onlink) }
  }

  /// Equal as far as forwarding goes: the same destination, gateway, device and onlink,
  /// whether the kernel holds them in the route itself or in a nexthop object.
  public func forwardsLike(_ other: Route) -> Bool {
    destination == other.destination && gateway == other.gateway
      && outputIndex == other.outputIndex && onlink == other.onlink && table == other.table
  }
}

/// A kernel nexthop object (Linux ≥ 5.3): a gateway on a device that routes point at by id.
///
/// Why: the kernel keys its shared route information by protocol, scope, metric and device,
/// not by gateway, so N routes with N different gateways on one device land in one hash
/// bucket and each insertion compares against all the others — 20,000 leases took 8 s of
/// kernel time to program. Routes that point at nexthop objects are found by id: linear.
public struct Nexthop: Sendable, Hashable {
  public var id: UInt32
  public var gateway: IPv4Address?
  public var outputIndex: Int?
  public var onlink: Bool

  public init(id: UInt32, gateway: IPv4Address?, outputIndex: Int?, onlink: Bool = false) {
    self.id = id
    self.gateway = gateway
    self.outputIndex = outputIndex
    self.onlink = onlink
  }
}

/// rtm_scope: how far the destination is.
public struct RouteScope: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
  public var rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let universe = RouteScope(rawValue: UInt8(RT_SCOPE_UNIVERSE.rawValue))
  public static let link = RouteScope(rawValue: UInt8(RT_SCOPE_LINK.rawValue))
  public static let host = RouteScope(rawValue: UInt8(RT_SCOPE_HOST.rawValue))

  public var description: String {
    switch self {
    case .universe: "global"
    case .link: "link"
    case .host: "host"
    default: "\(rawValue)"
    }
  }
}
