/// The IPv6 half of stock HEAD's allocation (local_manager allocateSubnet and
/// isIPv6SubnetConfigCompat): the same walk as IPv4 over IPv6SubnetMin...IPv6SubnetMax,
/// picked independently of the IPv4 subnet.
extension SubnetAllocator {
  /// With IPv6 disabled only a lease without an IPv6 subnet fits; with it enabled the IPv6
  /// subnet must be there, inside IPv6SubnetMin...IPv6SubnetMax, with IPv6SubnetLen bits.
  public static func isCompatible(ipv6 subnet: IPv6Network?, with config: NetworkConfig) -> Bool {
    guard let ipv6 = config.ipv6 else { return subnet == nil }
    guard let subnet else { return false }
    return subnet.prefixLength == ipv6.subnetLen
      && ipv6.subnetMin <= subnet.address && subnet.address <= ipv6.subnetMax
  }

  /// Walks IPv6SubnetMin...IPv6SubnetMax in subnet-size steps and returns, in order, up to
  /// `limit` subnets that overlap none of `taken`. A taken network shorter than the subnets
  /// is stepped over in one jump (every candidate inside it overlaps it), so a stray /16
  /// in a /8 does not cost 2^48 steps; the result is the walk's.
  public static func freeIPv6Subnets(
    in config: IPv6NetworkConfig, taken: [IPv6Network], limit: Int = 100
  ) -> [IPv6Network] {
    let length = config.subnetLen
    var sameLength: Set<IPv6Network> = []
    var otherLengths: [IPv6Network] = []
    for network in taken {
      if network.prefixLength == length {
        sameLength.insert(network)
      } else {
        otherLengths.append(network)
      }
    }
    let step = IPv6Address.powerOfTwo(128 - length)
    var free: [IPv6Network] = []
    var candidate = config.subnetMin
    while candidate <= config.subnetMax && free.count < limit {
      let subnet = IPv6Network(address: candidate, prefixLength: length)
      var next = candidate.addingReportingOverflow(step)
      if let blocker = otherLengths.first(where: { $0.overlaps(subnet) }) {
        if blocker.prefixLength < length {
          next = blocker.lastAddress.addingReportingOverflow(IPv6Address(high: 0, low: 1))
        }
      } else if !sameLength.contains(subnet) {
        free.append(subnet)
      }
      // Stepping past ffff:…:ffff ends the walk instead of wrapping to ::.
      if next.overflow { break }
      candidate = next.partialValue
    }
    return free
  }

  /// A random one of the first 100 free IPv6 subnets. Leases without an IPv6 subnet take
  /// no IPv6 space (stock would compare against their empty IPv6 half).
  public static func pickIPv6Subnet<R: RandomNumberGenerator>(
    in config: IPv6NetworkConfig, existing: [Lease], using rng: inout R
  ) throws(AllocationError) -> IPv6Network {
    let free = freeIPv6Subnets(in: config, taken: existing.compactMap(\.ipv6Subnet))
    guard let pick = free.randomElement(using: &rng) else {
      throw .outOfIPv6Subnets(network: config.network)
    }
    return pick
  }
}
