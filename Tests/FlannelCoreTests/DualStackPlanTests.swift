import FlannelCore
import Testing

@Suite struct DualStackPlanTests {
  static let dual = try! NetworkConfig.parse(
    #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48"}"#)
  static let ipv6Only = try! NetworkConfig.parse(
    #"{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48"}"#)
  static let ipv4Only = try! NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
  static let me = IPv4Address("192.168.0.10")!
  static let me6 = IPv6Address("fd00::10")!
  static let other = IPv4Address("192.168.0.20")!
  static let other6 = IPv6Address("fd00::20")!

  static func subnets(_ ipv4: String, _ ipv6: String?) -> LeaseSubnets {
    LeaseSubnets(ipv4: IPv4Network(ipv4)!, ipv6: ipv6.map { IPv6Network($0)! })
  }

  static func lease(
    _ ipv4: String, _ ipv6: String?, _ ip: IPv4Address, _ ip6: IPv6Address? = nil
  ) -> Lease {
    Lease(
      subnet: IPv4Network(ipv4)!, ipv6Subnet: ipv6.map { IPv6Network($0)! },
      attrs: LeaseAttrs(publicIP: ip, publicIPv6: ip6), expiration: nil)
  }

  static func plan(
    _ config: NetworkConfig, _ existing: [Lease], previous: LeaseSubnets? = nil,
    publicIP: IPv4Address = me, seed: UInt64 = 1
  ) throws(AllocationError) -> SubnetsPlan {
    var rng = SeededRNG(seed: seed)
    return try SubnetAllocator.planSubnets(
      config: config, existing: existing, publicIP: publicIP, publicIPv6: me6,
      previous: previous, using: &rng)
  }

  @Test func ipv4OnlyDecidesAsPlan() throws {
    let existing = [
      Self.lease("10.1.1.0/24", nil, Self.other), Self.lease("10.1.0.0/24", nil, Self.me),
    ]
    for seed in UInt64(0)..<30 {
      var rng = SeededRNG(seed: seed)
      let old = try SubnetAllocator.plan(
        config: Self.ipv4Only, existing: existing, publicIP: Self.me, previousSubnet: nil,
        using: &rng)
      let new = try Self.plan(Self.ipv4Only, existing, seed: seed)
      guard case .fresh(let oldPick) = old.decision else {
        Issue.record("expected a fresh pick")
        return
      }
      #expect(new.decision == .fresh(LeaseSubnets(ipv4: oldPick)))
      #expect(new.staleLeases == old.staleLeases.map { LeaseSubnets(ipv4: $0) })
    }
  }

  @Test func freshDualStackPicksBothFamiliesAroundTakenSubnets() throws {
    let existing = [
      Self.lease("10.1.1.0/24", "fc00:0:0:1::/64", Self.other),
      Self.lease("10.1.2.0/24", nil, Self.other),
      Self.lease("0.0.0.0/0", "fc00:0:0:2::/64", IPv4Address(0), Self.other6),
    ]
    var ipv4Seen: Set<IPv4Network> = []
    var ipv6Seen: Set<IPv6Network> = []
    for seed in UInt64(0)..<100 {
      let plan = try Self.plan(Self.dual, existing, seed: seed)
      guard case .fresh(let picked) = plan.decision, let ipv6 = picked.ipv6 else {
        Issue.record("expected a fresh dual-stack pick, got \(plan)")
        return
      }
      // The IPv6-only lease's 0.0.0.0/0 takes no IPv4 space.
      #expect(picked.ipv4.prefixLength == 24)
      #expect(picked.ipv4.address >= IPv4Address("10.1.3.0")!)
      #expect(picked.ipv4.address <= IPv4Address("10.1.102.0")!)
      #expect(ipv6.prefixLength == 64)
      #expect(ipv6.address >= IPv6Address("fc00:0:0:3::")!)
      #expect(ipv6.address <= IPv6Address("fc00:0:0:66::")!)
      ipv4Seen.insert(picked.ipv4)
      ipv6Seen.insert(ipv6)
    }
    #expect(ipv4Seen.count > 30 && ipv6Seen.count > 30)
  }

  @Test func reusesACompatibleDualStackLease() throws {
    let mine = Self.lease("10.1.7.0/24", "fc00:0:0:7::/64", Self.me)
    let plan = try Self.plan(
      Self.dual, [Self.lease("10.1.5.0/24", "fc00:0:0:5::/64", Self.other), mine],
      previous: Self.subnets("10.1.9.0/24", "fc00:0:0:9::/64"))
    #expect(plan == SubnetsPlan(decision: .reuse(mine), staleLeases: []))
  }

  /// Stock: with IPv6 enabled a lease needs an IPv6 half; without, it must have none.
  @Test func leaseOfTheWrongShapeIsStale() throws {
    let ipv4Lease = Self.lease("10.1.7.0/24", nil, Self.me)
    let dualPlan = try Self.plan(Self.dual, [ipv4Lease])
    #expect(dualPlan.staleLeases == [Self.subnets("10.1.7.0/24", nil)])
    guard case .fresh(let picked) = dualPlan.decision else {
      Issue.record("expected a fresh pick")
      return
    }
    #expect(picked.ipv6 != nil && picked.ipv4 != IPv4Network("10.1.7.0/24"))

    let dualLease = Self.lease("10.1.7.0/24", "fc00:0:0:7::/64", Self.me)
    let ipv4Plan = try Self.plan(Self.ipv4Only, [dualLease])
    #expect(ipv4Plan.staleLeases == [Self.subnets("10.1.7.0/24", "fc00:0:0:7::/64")])
  }

  @Test func usesThePreviousSubnetsWhenBothHalvesAreFree() throws {
    let previous = Self.subnets("10.1.9.0/24", "fc00:0:0:9::/64")
    let free = try Self.plan(
      Self.dual, [Self.lease("10.1.5.0/24", "fc00:0:0:5::/64", Self.other)], previous: previous)
    #expect(free.decision == .previous(previous))
    // Either half taken by another node, or a half missing: not used.
    for existing in [
      [Self.lease("10.1.9.0/24", "fc00:0:0:1::/64", Self.other)],
      [Self.lease("10.1.1.0/24", "fc00:0:0:9::/64", Self.other)],
      [Self.lease("10.1.1.0/24", "fc00::/56", Self.other)],
    ] {
      let plan = try Self.plan(Self.dual, existing, previous: previous)
      guard case .fresh = plan.decision else {
        Issue.record("previous used although taken: \(plan)")
        continue
      }
    }
    let halfMissing = try Self.plan(Self.dual, [], previous: Self.subnets("10.1.9.0/24", nil))
    guard case .fresh = halfMissing.decision else {
      Issue.record("an IPv4-only previous subnet used on a dual-stack network")
      return
    }
  }

  @Test func ipv6OnlyMatchesByPublicIPv6AndLeavesIPv4Empty() throws {
    let theirs = Self.lease("0.0.0.0/0", "fc00:0:0:4::/64", IPv4Address(0), Self.other6)
    let mine = Self.lease("0.0.0.0/0", "fc00:0:0:8::/64", IPv4Address(0), Self.me6)
    let reuse = try Self.plan(Self.ipv6Only, [theirs, mine], publicIP: IPv4Address(0))
    #expect(reuse.decision == .reuse(mine))

    let fresh = try Self.plan(Self.ipv6Only, [theirs], publicIP: IPv4Address(0))
    guard case .fresh(let picked) = fresh.decision else {
      Issue.record("expected a fresh pick, got \(fresh)")
      return
    }
    #expect(picked.ipv4IsEmpty)
    #expect(picked.ipv6 != IPv6Network("fc00:0:0:4::/64"))
    #expect(SubnetKey.format(picked).hasPrefix("0.0.0.0-0&fc00:0:0:"))

    let previous = LeaseSubnets(ipv6: IPv6Network("fc00:0:0:9::/64")!)
    let reused = try Self.plan(
      Self.ipv6Only, [theirs], previous: previous, publicIP: IPv4Address(0))
    #expect(reused.decision == .previous(previous))
  }

  @Test func outOfIPv6SubnetsEvenWithIPv4Left() throws {
    let tiny = try NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/124"}"#)
    let existing = ["fc00::4/126", "fc00::8/126", "fc00::c/126"].enumerated().map {
      Self.lease("10.1.\($0.offset + 1).0/24", $0.element, Self.other)
    }
    #expect(throws: AllocationError.outOfIPv6Subnets(network: IPv6Network("fc00::/124")!)) {
      try Self.plan(tiny, existing)
    }
  }
}
