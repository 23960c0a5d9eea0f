/// The subnet-to-host table of other nodes' leases. Keyed by what the lease's etcd key names
/// (its IPv4 subnet, and its IPv6 subnet on a dual-stack or IPv6-only network: every
/// IPv6-only lease has the IPv4 part 0.0.0.0/0), so one lease event changes it in O(1) (a
/// join in a 20,000-node cluster must not rebuild anything); the sorted view is built only
/// when asked for (a new subscriber, a full reconcile, tests).
public struct LeaseTable: Sendable, Equatable {
  private var bySubnet: [LeaseSubnets: Lease]

  /// One lease per key (the last one given wins).
  public init(_ leases: [Lease] = []) {
    bySubnet = [:]
    bySubnet.reserveCapacity(leases.count)
    for lease in leases { insert(lease) }
  }

  /// Sorted by subnet (IPv4, then IPv6). Assigning replaces the whole table.
  public var leases: [Lease] {
    get { bySubnet.values.sorted(by: Lease.subnetOrder) }
    set { self = LeaseTable(newValue) }
  }

  public var count: Int { bySubnet.count }

  /// Every lease, in no particular order (no sorting, no copy).
  public func forEach(_ body: (Lease) -> Void) {
    for lease in bySubnet.values { body(lease) }
  }

  public subscript(subnets: LeaseSubnets) -> Lease? { bySubnet[subnets] }

  /// Adds a lease or replaces the one of its key; returns the replaced one.
  @discardableResult
  public mutating func insert(_ lease: Lease) -> Lease? {
    bySubnet.updateValue(lease, forKey: lease.subnets)
  }

  /// Removes the lease of `subnets`; returns it, or nil when there was none.
  @discardableResult
  public mutating func remove(_ subnets: LeaseSubnets) -> Lease? {
    bySubnet.removeValue(forKey: subnets)
  }

  public static func == (lhs: LeaseTable, rhs: LeaseTable) -> Bool {
    lhs.bySubnet == rhs.bySubnet
  }
}
