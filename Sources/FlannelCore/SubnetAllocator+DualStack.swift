/// What the node should do about its lease on a network that may have IPv6: the dual-stack
/// counterpart of `AllocationDecision`, naming both subnets of the lease key.
public enum SubnetsDecision: Sendable, Equatable {
  /// A lease already holding our public address, compatible with the config: overwrite it.
  case reuse(Lease)
  /// The subnets from the previous subnet.env: compatible and held by nobody.
  case previous(LeaseSubnets)
  /// Random picks among the first 100 free subnets of each enabled family.
  case fresh(LeaseSubnets)
}

public struct SubnetsPlan: Sendable, Equatable {
  public let decision: SubnetsDecision
  /// Leases holding our public address that no longer fit the config: the caller deletes
  /// them.
  public let staleLeases: [LeaseSubnets]

  public init(decision: SubnetsDecision, staleLeases: [LeaseSubnets]) {
    self.decision = decision
    self.staleLeases = staleLeases
  }
}

/// Stock HEAD's tryAcquireLease for IPv4-only, dual-stack and IPv6-only configs, with the
/// ≥v0.18 rule for the previous subnet. With an IPv4-only config and IPv4-only leases it
/// decides exactly as `plan` (same draw from the generator); where stock breaks on IPv6-only
/// networks it is not followed (see each step).
extension SubnetAllocator {
  /// Both halves fit: the IPv4 subnet as `isCompatible` checks it (or 0.0.0.0/0 when IPv4
  /// is disabled, which is what stock's zero SubnetMin/Max/SubnetLen accept), the IPv6
  /// subnet as `isCompatible(ipv6:with:)` checks it.
  public static func isCompatible(_ subnets: LeaseSubnets, with config: NetworkConfig) -> Bool {
    let ipv4Fits =
      config.enableIPv4 ? isCompatible(subnets.ipv4, with: config) : subnets.ipv4IsEmpty
    return ipv4Fits && isCompatible(ipv6: subnets.ipv6, with: config)
  }

  /// 1. The first lease with our public address that is compatible (incompatible ones become
  ///    stale). "Ours" is PublicIP == `publicIP`, or, with IPv4 disabled, PublicIPv6 ==
  ///    `publicIPv6` (stock compares PublicIP, 0.0.0.0 on every IPv6-only node, so it would
  ///    hand one node's lease to the next).
  /// 2. `previous` if compatible and no lease overlaps either half (stock looks at the IPv4
  ///    half only, and never uses a previous subnet on an IPv6-only network).
  /// 3. A random one of the first 100 free subnets of each enabled family, picked
  ///    independently. IPv6-only leases (IPv4 part 0.0.0.0/0) take no IPv4 space and
  ///    IPv4-only leases no IPv6 space (stock's walk would stop on the first of them).
  /// Stale leases still count as taken, as in flannel.
  public static func planSubnets<R: RandomNumberGenerator>(
    config: NetworkConfig, existing: [Lease], publicIP: IPv4Address, publicIPv6: IPv6Address?,
    previous: LeaseSubnets?, using rng: inout R
  ) throws(AllocationError) -> SubnetsPlan {
    let ours = existing.filter { lease in
      config.enableIPv4
        ? lease.attrs.publicIP == publicIP
        : publicIPv6 != nil && lease.attrs.publicIPv6 == publicIPv6
    }
    let stale = ours.filter { !isCompatible($0.subnets, with: config) }.map(\.subnets)
    if let lease = ours.first(where: { isCompatible($0.subnets, with: config) }) {
      return SubnetsPlan(decision: .reuse(lease), staleLeases: stale)
    }
    let takenIPv4 = existing.map(\.subnets).filter { !$0.ipv4IsEmpty }.map(\.ipv4)
    let takenIPv6 = existing.compactMap(\.ipv6Subnet)
    if let previous, isCompatible(previous, with: config),
      previous.ipv4IsEmpty || !takenIPv4.contains(where: { $0.overlaps(previous.ipv4) }),
      !takenIPv6.contains(where: { taken in previous.ipv6.map(taken.overlaps) ?? false })
    {
      return SubnetsPlan(decision: .previous(previous), staleLeases: stale)
    }
    var fresh = LeaseSubnets(ipv4: IPv4Network(address: IPv4Address(0), prefixLength: 0))
    if config.enableIPv4 {
      guard let pick = freeSubnets(in: config, taken: takenIPv4).randomElement(using: &rng) else {
        throw .outOfSubnets(network: config.network)
      }
      fresh.ipv4 = pick
    }
    if let ipv6 = config.ipv6 {
      guard let pick = freeIPv6Subnets(in: ipv6, taken: takenIPv6).randomElement(using: &rng)
      else { throw .outOfIPv6Subnets(network: ipv6.network) }
      fresh.ipv6 = pick
    }
    return SubnetsPlan(decision: .fresh(fresh), staleLeases: stale)
  }
}
