import FlannelCore

/// How one node leases and keeps its subnet. Defaults are stock flanneld's (§2.4).
public struct SubnetManagerConfiguration: Sendable {
  /// The address other nodes reach this node at (the lease's PublicIP).
  public var publicIP: IPv4Address
  /// The lease's PublicIPv6 on a dual-stack network (stock's ExtV6Addr); nil otherwise.
  public var publicIPv6: IPv6Address?
  /// Backend type and data written into the lease.
  public var backendType: String
  public var backendData: JSONValue?
  /// BackendV6Data: the backend's IPv6 data on a dual-stack network (none for host-gw).
  public var backendV6Data: JSONValue?
  /// FLANNEL_SUBNET from the previous subnet.env, if any.
  public var previousSubnet: IPv4Network?
  /// FLANNEL_IPV6_SUBNET from the previous subnet.env, if any (read on dual-stack networks).
  public var previousIPv6Subnet: IPv6Network?
  /// Lease lifetime in seconds: 24 h, not configurable in stock.
  public var leaseTTL: Int64 = 86_400
  /// Renew this long before the lease expires (`-subnet-lease-renew-margin`).
  public var renewMargin: Duration = .seconds(3_600)
  /// After a failed renewal, try again after this long.
  public var renewRetryInterval: Duration = .seconds(60)
  /// Acquisition attempts before giving up ("Max retries reached").
  public var maxAcquireAttempts = 10
  /// Reconnect backoff for watches and re-acquisition while etcd is unreachable.
  public var backoffInitial: Duration = .milliseconds(100)
  public var backoffMax: Duration = .seconds(5)

  public init(
    publicIP: IPv4Address, backendType: String = "", backendData: JSONValue? = nil,
    previousSubnet: IPv4Network? = nil
  ) {
    self.publicIP = publicIP
    self.backendType = backendType
    self.backendData = backendData
    self.previousSubnet = previousSubnet
  }

  var attrs: LeaseAttrs {
    LeaseAttrs(
      publicIP: publicIP, backendType: backendType, backendData: backendData,
      publicIPv6: publicIPv6, backendV6Data: backendV6Data)
  }

  /// The previous subnets as the allocator weighs them: nil without an IPv4 one (stock
  /// needs FLANNEL_SUBNET on a network with IPv4).
  func previous(ipv4: IPv4Network?, ipv6: IPv6Network?) -> LeaseSubnets? {
    ipv4.map { LeaseSubnets(ipv4: $0, ipv6: ipv6) }
  }
}
