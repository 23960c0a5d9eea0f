import Foundation

/// One host's claim on a subnet.
public struct Lease: Sendable, Equatable {
  /// The IPv4 subnet; 0.0.0.0/0 for an IPv6-only lease (stock's key "0.0.0.0-0&<v6>-<len>").
  public var subnet: IPv4Network
  public var attrs: LeaseAttrs
  /// nil for a reservation (a key without TTL / etcd lease) or when unknown.
  public var expiration: Date?
  private var ipv6: RarelySet<IPv6Network>

  /// The IPv6 subnet of a dual-stack or IPv6-only lease (out of line: most leases have none).
  public var ipv6Subnet: IPv6Network? {
    get { ipv6.value }
    set { ipv6 = RarelySet(newValue) }
  }

  public init(
    subnet: IPv4Network, ipv6Subnet: IPv6Network? = nil, attrs: LeaseAttrs, expiration: Date?
  ) {
    self.subnet = subnet
    self.ipv6 = RarelySet(ipv6Subnet)
    self.attrs = attrs
    self.expiration = expiration
  }

  /// Both subnets, as the lease key names them.
  public var subnets: LeaseSubnets { LeaseSubnets(ipv4: subnet, ipv6: ipv6Subnet) }
}

extension Lease {
  /// By IPv4 subnet, then IPv6 subnet (IPv6-only leases, all at 0.0.0.0/0, first, by their
  /// IPv6 subnet; a lease without an IPv6 subnet before one with).
  public static func subnetOrder(_ a: Lease, _ b: Lease) -> Bool {
    if a.subnet != b.subnet { return a.subnet < b.subnet }
    switch (a.ipv6Subnet, b.ipv6Subnet) {
    case (nil, .some): return true
    case (.some(let x), .some(let y)): return x < y
    default: return false
    }
  }
}
