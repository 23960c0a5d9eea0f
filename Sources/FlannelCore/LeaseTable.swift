/// The subnet-to-host table of other nodes' leases. Keyed by subnet, so one lease event
/// changes it in O(1) (a join in a 20,000-node cluster must not rebuild anything); the sorted
/// view is built only when asked for (a new subscriber, a full reconcile, tests).
public struct LeaseTable: Sendable, Equatable {
  private var bySubnet: [IPv4Network: Lease]
  /// How many leases have each prefix length: `lookup` masks the destination with each
  /// present length, longest first, so it costs one hash probe when all leases share one.
  private var prefixCounts: [Int: Int]

  /// One lease per subnet (the last one given wins).
  public init(_ leases: [Lease] = []) {
    bySubnet = [:]
    bySubnet.reserveCapacity(leases.count)
    prefixCounts = [:]
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
    let old = bySubnet.updateValue(lease, forKey: lease.subnet)
    if old == nil { prefixCounts[lease.subnet.prefixLength, default: 0] += 1 }
    return old
  }

  /// Removes the lease of `subnet`; returns it, or nil when there was none.
  @discardableResult
  public mutating func remove(_ subnet: IPv4Network) -> Lease? {
    guard let old = bySubnet.removeValue(forKey: subnet) else { return nil }
    let length = subnet.prefixLength
    if let n = prefixCounts[length], n > 1 {
      prefixCounts[length] = n - 1
    } else {
      prefixCounts.removeValue(forKey: length)
    }
    return old
  }

  /// The lease with the longest prefix containing `destination`, or nil.
  public func lookup(_ destination: IPv4Address) -> Lease? {
    for length in prefixCounts.keys.sorted(by: >) {
      if let lease = bySubnet[IPv4Network(address: destination, prefixLength: length)] {
        return lease
      }
    }
    return nil
  }

  public static func == (lhs: LeaseTable, rhs: LeaseTable) -> Bool {
    lhs.bySubnet == rhs.bySubnet
  }
}
