import FlannelCore

/// Which leases enter the table of a network: one of a family the network lacks would be
/// programmed wrongly or not at all. An IPv6-only lease (key 0.0.0.0-0&<v6>-<len>) on a
/// network with IPv4 would read as a route for 0.0.0.0/0; an IPv4-only lease on an IPv6-only
/// network names nothing the node can use. Allocation still sees every lease (they take
/// their space).
struct LeaseFamilies {
  let network: NetworkConfig

  /// Why `lease` stays out of the table, or nil when it fits.
  func refusal(of lease: Lease) -> String? {
    if network.enableIPv4 && lease.subnets.ipv4IsEmpty {
      return
        "an IPv6-only lease (its IPv4 part is 0.0.0.0/0) on a network with IPv4 (Network \(network.network)); only nodes with \"EnableIPv4\": false write such keys"
    }
    if !network.enableIPv4 && lease.ipv6Subnet == nil {
      return
        "an IPv4-only lease on an IPv6-only network (\"EnableIPv4\": false); only nodes with an IPv4 Network write such keys"
    }
    return nil
  }
}
