import FlannelCore
import Testing

@Suite struct SubnetAllocatorTests {
  /// 10.1.0.0/16, /24 subnets, SubnetMin 10.1.1.0, SubnetMax 10.1.255.0.
  static let config = try! NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
  static let me = IPv4Address("192.168.0.10")!
  static let other = IPv4Address("192.168.0.20")!

  static func lease(_ subnet: String, _ ip: IPv4Address) -> Lease {
    Lease(subnet: IPv4Network(subnet)!, attrs: LeaseAttrs(publicIP: ip), expiration: nil)
  }

  static func plan(
    _ existing: [Lease], previous: String? = nil, config: NetworkConfig = config, seed: UInt64 = 1
  ) throws(AllocationError) -> AllocationPlan {
    var rng = SeededRNG(seed: seed)
    return try SubnetAllocator.plan(
      config: config, existing: existing, publicIP: me,
      previousSubnet: previous.flatMap { IPv4Network($0) }, using: &rng)
  }

  @Test(arguments: [
    ("10.1.1.0/24", true),
    ("10.1.255.0/24", true),
    ("10.1.0.0/24", false),  // below SubnetMin (the skipped first subnet)
    ("10.1.15.0/25", false),  // wrong length
    ("10.1.0.0/16", false),
    ("10.2.1.0/24", false),  // outside the network, above SubnetMax
  ])
  func compatibility(subnet: String, expected: Bool) {
    #expect(SubnetAllocator.isCompatible(IPv4Network(subnet)!, with: Self.config) == expected)
  }

  @Test func reusesLeaseHoldingOurPublicIP() throws {
    let mine = Self.lease("10.1.7.0/24", Self.me)
    let plan = try Self.plan(
      [Self.lease("10.1.5.0/24", Self.other), mine], previous: "10.1.42.0/24")
    #expect(plan == AllocationPlan(decision: .reuse(mine), staleLeases: []))
  }

  @Test func incompatibleLeasesOfOursAreStaleAndSkipped() throws {
    let compatible = Self.lease("10.1.8.0/24", Self.me)
    let plan = try Self.plan([
      Self.lease("10.1.0.0/24", Self.me), Self.lease("10.1.9.0/26", Self.me), compatible,
      Self.lease("10.1.10.0/24", Self.other),
    ])
    #expect(plan.decision == .reuse(compatible))
    #expect(plan.staleLeases == [IPv4Network("10.1.0.0/24")!, IPv4Network("10.1.9.0/26")!])
  }

  @Test func staleLeaseStillCountsAsTakenWhenAllocating() throws {
    // 10.0.0.0/28 has three /30s: .4, .8, .12. Our stale /31 sits on .4, another host holds
    // .12, so whatever the random draw, flannel's rule (allocate from the listing made
    // before the delete) leaves only .8.
    let tiny = try NetworkConfig.parse(#"{"Network":"10.0.0.0/28"}"#)
    let existing = [Self.lease("10.0.0.4/31", Self.me), Self.lease("10.0.0.12/30", Self.other)]
    for seed in UInt64(0)..<20 {
      let plan = try Self.plan(existing, config: tiny, seed: seed)
      #expect(plan.staleLeases == [IPv4Network("10.0.0.4/31")!])
      #expect(plan.decision == .fresh(IPv4Network("10.0.0.8/30")!))
    }
  }

  @Test func previousSubnetIsUsedWhenFree() throws {
    let plan = try Self.plan([Self.lease("10.1.5.0/24", Self.other)], previous: "10.1.42.0/24")
    #expect(
      plan == AllocationPlan(decision: .previous(IPv4Network("10.1.42.0/24")!), staleLeases: []))
  }

  @Test(arguments: [
    ("10.1.42.0/24", ["10.1.42.0/24"]),  // held by another host (≥ v0.18: not taken over)
    ("10.1.42.0/24", ["10.1.42.0/23"]),  // overlapped by a larger lease
    ("10.1.0.0/24", []),  // below SubnetMin
    ("10.1.42.0/25", []),  // wrong length
    ("10.9.42.0/24", []),  // another network
  ])
  func previousSubnetIsIgnoredWhenTakenOrIncompatible(previous: String, held: [String]) throws {
    let plan = try Self.plan(held.map { Self.lease($0, Self.other) }, previous: previous)
    guard case .fresh(let subnet) = plan.decision else {
      Issue.record("expected a fresh subnet, got \(plan.decision)")
      return
    }
    #expect(subnet != IPv4Network(previous))
    #expect(!held.contains { IPv4Network($0)!.overlaps(subnet) })
  }

  @Test func freeSubnetsWalksInOrderSkippingOverlaps() {
    let config = try! NetworkConfig.parse(#"{"Network":"10.0.0.0/8"}"#)
    // A stray /16 blocks every /24 inside it (shorter-mask overlap rule).
    let free = SubnetAllocator.freeSubnets(
      in: config, taken: [IPv4Network("10.0.0.0/16")!, IPv4Network("10.1.1.0/24")!], limit: 3)
    #expect(free.map(\.description) == ["10.1.0.0/24", "10.1.2.0/24", "10.1.3.0/24"])
    #expect(SubnetAllocator.freeSubnets(in: config, taken: []).count == 100)
  }

  @Test func freeSubnetsStopsAtTopOfAddressSpace() {
    let config = try! NetworkConfig.parse(#"{"Network":"255.255.0.0/16"}"#)
    let free = SubnetAllocator.freeSubnets(in: config, taken: [], limit: 1000)
    #expect(free.count == 255)
    #expect(free.last == IPv4Network("255.255.255.0/24"))
  }

  @Test func randomPickStaysWithinFirstHundredFree() throws {
    // 10.1.1.0 … 10.1.50.0 are held, so the first 100 free are 10.1.51.0 … 10.1.150.0.
    let held = (1...50).map { Self.lease("10.1.\($0).0/24", Self.other) }
    let firstHundred = Set((51...150).map { IPv4Network("10.1.\($0).0/24")! })
    var picks = Set<IPv4Network>()
    for seed in UInt64(0)..<300 {
      let plan = try Self.plan(held, seed: seed)
      guard case .fresh(let subnet) = plan.decision else {
        Issue.record("expected a fresh subnet, got \(plan.decision)")
        return
      }
      #expect(firstHundred.contains(subnet), "picked \(subnet)")
      picks.insert(subnet)
    }
    // Uniform over 100: 300 draws hit far more than a handful (and not only the first).
    #expect(picks.count > 50)
  }

  @Test func outOfSubnetsInTinyNetwork() throws {
    // 10.0.0.0/28 → SubnetLen 30, usable 10.0.0.4, 10.0.0.8, 10.0.0.12: exactly three.
    let tiny = try NetworkConfig.parse(#"{"Network":"10.0.0.0/28"}"#)
    #expect(SubnetAllocator.freeSubnets(in: tiny, taken: []).count == 3)
    let two = ["10.0.0.4/30", "10.0.0.12/30"].map { Self.lease($0, Self.other) }
    #expect(
      try Self.plan(two, config: tiny).decision == .fresh(IPv4Network("10.0.0.8/30")!))
    let all = two + [Self.lease("10.0.0.8/30", Self.other)]
    #expect(throws: AllocationError.outOfSubnets(network: IPv4Network("10.0.0.0/28")!)) {
      try Self.plan(all, config: tiny)
    }
    let error = AllocationError.outOfSubnets(network: IPv4Network("10.0.0.0/28")!)
    #expect(error.description.hasPrefix("out of subnets"))
    #expect(error.description.contains("10.0.0.0/28"))
  }
}
