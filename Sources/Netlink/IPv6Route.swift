import CLibMnl
import FlannelCore

/// An IPv6 unicast route of the main table, as the host-gw backend programs one per
/// dual-stack peer: `<peer IPv6 subnet> via <peer PublicIPv6> dev <external interface>`.
/// Plain routes only: the IPv6 FIB keeps one entry per route (no shared per-device info the
/// way IPv4's fib_info is shared), so nexthop objects buy nothing here.
public struct IPv6Route: Sendable, Hashable {
  public var destination: IPv6Network
  public var gateway: IPv6Address?
  /// RTA_OIF; a link-local gateway needs it.
  public var outputIndex: Int?
  public var table: UInt32

  public init(
    destination: IPv6Network, gateway: IPv6Address? = nil, outputIndex: Int? = nil,
    table: UInt32 = Route.mainTable
  ) {
    self.destination = destination
    self.gateway = gateway
    self.outputIndex = outputIndex
    self.table = table
  }
}
