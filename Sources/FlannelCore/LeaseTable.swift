/// Immutable subnet-to-host table the control plane publishes after every change; the
/// data plane looks destinations up in it without locks (it is a value).
public struct LeaseTable: Sendable, Equatable {
  /// Sorted by subnet; one lease per subnet (the last one given wins). Assigning rebuilds
  /// the table so the lookup index never goes stale.
  public var leases: [Lease] {
    get { sorted }
    set { self = LeaseTable(newValue) }
  }
  private var sorted: [Lease]
  /// Leases keyed by subnet, for exact lookups.
  private var bySubnet: [IPv4Network: Int]
  /// Distinct prefix lengths present, longest first: a lookup masks the destination with
  /// each and probes `bySubnet`, so it costs one hash probe when all leases share a length.
  private var prefixLengths: [Int]

  public init(_ leases: [Lease]) {
    var latest: [IPv4Network: Lease] = [:]
    for lease in leases { latest[lease.subnet] = lease }
    sorted = latest.values.sorted { $0.subnet < $1.subnet }
    var index: [IPv4Network: Int] = [:]
    for (position, lease) in sorted.enumerated() { index[lease.subnet] = position }
    bySubnet = index
    prefixLengths = Set(sorted.map(\.subnet.prefixLength)).sorted(by: >)
  }

  public var count: Int { sorted.count }

  public subscript(subnet: IPv4Network) -> Lease? {
    bySubnet[subnet].map { sorted[$0] }
  }

  /// The lease with the longest prefix containing `destination`, or nil.
  public func lookup(_ destination: IPv4Address) -> Lease? {
    for length in prefixLengths {
      let candidate = IPv4Network(address: destination, prefixLength: length)
      if let position = bySubnet[candidate] { return sorted[position] }
    }
    return nil
  }

  public static func == (lhs: LeaseTable, rhs: LeaseTable) -> Bool {
    lhs.sorted == rhs.sorted
  }
}
