/// What the node should do about its lease, decided from one listing of all leases.
public enum AllocationDecision: Sendable, Equatable {
  /// A lease already holding our PublicIP, compatible with the config: overwrite it.
  case reuse(Lease)
  /// FLANNEL_SUBNET from the previous subnet.env: compatible and held by nobody.
  case previous(IPv4Network)
  /// A random pick among the first 100 free subnets.
  case fresh(IPv4Network)
}

public struct AllocationPlan: Sendable, Equatable {
  public let decision: AllocationDecision
  /// Leases holding our PublicIP that no longer fit the config: the caller deletes them.
  public let staleLeases: [IPv4Network]

  public init(decision: AllocationDecision, staleLeases: [IPv4Network]) {
    self.decision = decision
    self.staleLeases = staleLeases
  }
}

public enum AllocationError: Error, Equatable, CustomStringConvertible {
  case outOfSubnets(network: IPv4Network)
  case outOfIPv6Subnets(network: IPv6Network)

  public var description: String {
    switch self {
    case .outOfSubnets(let network):
      "out of subnets: every subnet between SubnetMin and SubnetMax of \(network) is leased"
    case .outOfIPv6Subnets(let network):
      "out of subnets: every subnet between IPv6SubnetMin and IPv6SubnetMax of \(network) is leased"
    }
  }
}

/// The pure part of flannel's AcquireLease (behaviour reference §2.5, the ≥v0.18 rule for
/// the previous subnet). Writing to etcd and retrying on a lost race is the caller's job.
public enum SubnetAllocator {
  /// SubnetMin ≤ subnet ≤ SubnetMax and the subnet has exactly SubnetLen bits.
  public static func isCompatible(_ subnet: IPv4Network, with config: NetworkConfig) -> Bool {
    subnet.prefixLength == config.subnetLen
      && config.subnetMin <= subnet.address && subnet.address <= config.subnetMax
  }

  /// Walks SubnetMin...SubnetMax in subnet-size steps and returns, in order, up to `limit`
  /// subnets that overlap none of `taken` (overlap uses the shorter mask, so a stray /16
  /// lease blocks every /24 inside it).
  public static func freeSubnets(
    in config: NetworkConfig, taken: [IPv4Network], limit: Int = 100
  ) -> [IPv4Network] {
    let step = UInt64(1) << UInt64(32 - config.subnetLen)
    var free: [IPv4Network] = []
    // UInt64 so that stepping past 255.255.255.0 ends the walk instead of wrapping to 0.
    var candidate = UInt64(config.subnetMin.value)
    while candidate <= UInt64(config.subnetMax.value) && free.count < limit {
      let subnet = IPv4Network(
        address: IPv4Address(UInt32(candidate)), prefixLength: config.subnetLen)
      if !taken.contains(where: { $0.overlaps(subnet) }) { free.append(subnet) }
      candidate += step
    }
    return free
  }

  /// 1. the first lease with our PublicIP that is compatible (incompatible ones become
  ///    stale); 2. the previous subnet if compatible and overlapping no lease; 3. a random
  ///    one of the first 100 free subnets. Stale leases still count as taken, as in flannel,
  ///    which allocates from the listing it made before deleting them.
  public static func plan<R: RandomNumberGenerator>(
    config: NetworkConfig, existing: [Lease], publicIP: IPv4Address,
    previousSubnet: IPv4Network?, using rng: inout R
  ) throws(AllocationError) -> AllocationPlan {
    let ours = existing.filter { $0.attrs.publicIP == publicIP }
    let stale = ours.filter { !isCompatible($0.subnet, with: config) }.map(\.subnet)
    if let lease = ours.first(where: { isCompatible($0.subnet, with: config) }) {
      return AllocationPlan(decision: .reuse(lease), staleLeases: stale)
    }
    let taken = existing.map(\.subnet)
    if let previousSubnet, isCompatible(previousSubnet, with: config),
      !taken.contains(where: { $0.overlaps(previousSubnet) })
    {
      return AllocationPlan(decision: .previous(previousSubnet), staleLeases: stale)
    }
    let free = freeSubnets(in: config, taken: taken)
    guard let pick = free.randomElement(using: &rng) else {
      throw .outOfSubnets(network: config.network)
    }
    return AllocationPlan(decision: .fresh(pick), staleLeases: stale)
  }
}
