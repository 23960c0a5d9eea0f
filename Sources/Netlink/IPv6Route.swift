import CLibMnl
import FlannelCore

/// An IPv6 unicast route of the main table, as the host-gw backend programs one per
/// dual-stack peer (`<peer IPv6 subnet> via <peer PublicIPv6> dev <external interface>`) and
/// the vxlan backend (`<peer IPv6 subnet> via <its address> dev flannel-v6.<VNI> onlink`).
/// Plain routes only: the IPv6 FIB keeps one entry per route (no shared per-device info the
/// way IPv4's fib_info is shared), so nexthop objects buy nothing here.
public struct IPv6Route: Sendable, Hashable {
  public var destination: IPv6Network
  public var gateway: IPv6Address?
  /// RTA_OIF; a link-local gateway needs it.
  public var outputIndex: Int?
  /// RTNH_F_ONLINK: the gateway is on the link even without a matching subnet.
  public var onlink: Bool
  public var table: UInt32

  public init(
    destination: IPv6Network, gateway: IPv6Address? = nil, outputIndex: Int? = nil,
    onlink: Bool = false, table: UInt32 = Route.mainTable
  ) {
    self.destination = destination
    self.gateway = gateway
    self.outputIndex = outputIndex
    self.onlink = onlink
    self.table = table
  }
}
