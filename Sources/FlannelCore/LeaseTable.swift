/// The subnet-to-host table of other nodes' leases. Keyed by subnet, so one lease event
/// changes it in O(1) (a join in a 20,000-node cluster must not rebuild anything); the sorted
/// view is built only when asked for (a new subscriber, a full reconcile, tests).
public struct LeaseTable: Sendable, Equatable {
  private var bySubnet: [IPv4Network: Lease]

  /// One lease per subnet (the last one given wins).
  public init(_ leases: [Lease] = []) {
    bySubnet = [:]
    bySubnet.reserveCapacity(leases.count)
    for lease in leases { insert(lease) }
  }

  /// Sorted by subnet. Assigning replaces the whole table.
  public var leases: [Lease] {
    get { bySubnet.values.sorted { $0.subnet < $1.subnet } }
    set { self = LeaseTable(newValue) }
  }

  public var count: Int { bySubnet.count }

  /// Every lease, in no particular order (no sorting, no copy).
  public func forEach(_ body: (Lease) -> Void) {
    for lease in bySubnet.values { body(lease) }
  }

  public subscript(subnet: IPv4Network) -> Lease? { bySubnet[subnet] }

  /// Adds a lease or replaces the one of its subnet; returns the replaced one.
  @discardableResult
  public mutating func insert(_ lease: Lease) -> Lease? {
    bySubnet.updateValue(lease, forKey: lease.subnet)
  }

  /// Removes the lease of `subnet`; returns it, or nil when there was none.
  @discardableResult
  public mutating func remove(_ subnet: IPv4Network) -> Lease? {
    bySubnet.removeValue(forKey: subnet)
  }

  public static func == (lhs: LeaseTable, rhs: LeaseTable) -> Bool {
    lhs.bySubnet == rhs.bySubnet
  }
}
