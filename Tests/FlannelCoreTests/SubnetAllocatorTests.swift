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

@Suite struct IPv6SubnetAllocatorTests {
  /// fc00::/48 with /64 subnets: IPv6SubnetMin fc00:0:0:1::, IPv6SubnetMax fc00:0:0:ffff::.
  static let config = try! NetworkConfig.parse(
    #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48"}"#)
  static let ipv6 = config.ipv6!
  static let me = IPv4Address("192.168.0.10")!

  static func net(_ text: String) -> IPv6Network { IPv6Network(text)! }

  static func lease(_ ipv4: String, _ ipv6: String?) -> Lease {
    Lease(
      subnet: IPv4Network(ipv4)!, ipv6Subnet: ipv6.map(net), attrs: LeaseAttrs(publicIP: me),
      expiration: nil)
  }

  @Test(arguments: [
    ("fc00:0:0:1::/64", true),
    ("fc00:0:0:ffff::/64", true),
    ("fc00::/64", false),  // below IPv6SubnetMin (the skipped first subnet)
    ("fc00:0:0:1::/80", false),  // wrong length
    ("fc01::/64", false),  // outside the network
  ])
  func compatibility(subnet: String, expected: Bool) {
    #expect(SubnetAllocator.isCompatible(ipv6: Self.net(subnet), with: Self.config) == expected)
  }

  @Test func compatibilityFollowsEnableIPv6() throws {
    // Dual-stack config: a lease without an IPv6 subnet does not fit.
    #expect(!SubnetAllocator.isCompatible(ipv6: nil, with: Self.config))
    // IPv4-only config: only a lease without an IPv6 subnet fits.
    let ipv4Only = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
    #expect(SubnetAllocator.isCompatible(ipv6: nil, with: ipv4Only))
    #expect(!SubnetAllocator.isCompatible(ipv6: Self.net("fc00:0:0:1::/64"), with: ipv4Only))
  }

  @Test func walksFromMinSkippingTakenSubnets() {
    let free = SubnetAllocator.freeIPv6Subnets(
      in: Self.ipv6,
      taken: [Self.net("fc00:0:0:1::/64"), Self.net("fc00:0:0:3::/64"), Self.net("fd00::/64")],
      limit: 4)
    #expect(
      free == [
        Self.net("fc00:0:0:2::/64"), Self.net("fc00:0:0:4::/64"), Self.net("fc00:0:0:5::/64"),
        Self.net("fc00:0:0:6::/64"),
      ])
  }

  @Test func firstHundredFree() {
    let free = SubnetAllocator.freeIPv6Subnets(in: Self.ipv6, taken: [])
    #expect(free.count == 100)
    #expect(free.first == Self.net("fc00:0:0:1::/64"))
    #expect(free.last == Self.net("fc00:0:0:64::/64"))
  }

  /// A shorter taken network blocks every subnet inside it (the shorter mask decides), and
  /// the walk steps over it in one jump: here 2^16 candidates.
  @Test func shorterLeaseBlocksItsWholeRange() {
    let free = SubnetAllocator.freeIPv6Subnets(
      in: Self.ipv6, taken: [Self.net("fc00::/32"), Self.net("fc00:0:1::/48")], limit: 3)
    #expect(free.isEmpty)
    let wide = try! NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/40"}"#
    ).ipv6!
    let skipped = SubnetAllocator.freeIPv6Subnets(
      in: wide, taken: [Self.net("fc00::/48"), Self.net("fc00:0:1::/49")], limit: 2)
    #expect(skipped == [Self.net("fc00:0:1:8000::/64"), Self.net("fc00:0:1:8001::/64")])
    // 2^31 candidates under one lease: only the jump finishes this within the test's time.
    let huge = try! NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/32","IPv6SubnetLen":64}"#
    ).ipv6!
    let past = SubnetAllocator.freeIPv6Subnets(
      in: huge, taken: [Self.net("fc00::/33")], limit: 1)
    #expect(past == [Self.net("fc00:0:8000::/64")])
  }

  @Test func longerLeaseBlocksItsSubnet() {
    let free = SubnetAllocator.freeIPv6Subnets(
      in: Self.ipv6, taken: [Self.net("fc00:0:0:1:8000::/65"), Self.net("fc00:0:0:2::5/128")],
      limit: 1)
    #expect(free == [Self.net("fc00:0:0:3::/64")])
  }

  /// Walking up to ffff:…:ffff ends instead of wrapping to ::.
  @Test func stopsAtTheTopOfTheSpace() throws {
    let top = try #require(
      try NetworkConfig.parse(
        #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124"}"#
      ).ipv6)
    let free = SubnetAllocator.freeIPv6Subnets(in: top, taken: [])
    #expect(
      free == [
        Self.net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff4/126"),
        Self.net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff8/126"),
        Self.net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126"),
      ])
  }

  @Test func picksAmongTheFirstHundredFree() throws {
    let existing = [
      Self.lease("10.1.1.0/24", "fc00:0:0:1::/64"), Self.lease("10.1.2.0/24", nil),
      Self.lease("0.0.0.0/0", "fc00:0:0:2::/64"),
    ]
    var seen: Set<IPv6Network> = []
    for seed in UInt64(0)..<200 {
      var rng = SeededRNG(seed: seed)
      let pick = try SubnetAllocator.pickIPv6Subnet(in: Self.ipv6, existing: existing, using: &rng)
      #expect(pick.prefixLength == 64)
      #expect(pick.address >= IPv6Address("fc00:0:0:3::")!)
      #expect(pick.address <= IPv6Address("fc00:0:0:66::")!)
      seen.insert(pick)
    }
    // A random pick, not always the first.
    #expect(seen.count > 50)
  }

  @Test func outOfIPv6Subnets() throws {
    let tiny = try #require(
      try NetworkConfig.parse(
        #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/124"}"#
      ).ipv6)
    var rng = SeededRNG(seed: 1)
    let existing = ["fc00::4/126", "fc00::8/126", "fc00::c/126"].map {
      Self.lease("10.1.1.0/24", $0)
    }
    #expect(throws: AllocationError.outOfIPv6Subnets(network: Self.net("fc00::/124"))) {
      try SubnetAllocator.pickIPv6Subnet(in: tiny, existing: existing, using: &rng)
    }
    #expect(
      AllocationError.outOfIPv6Subnets(network: Self.net("fc00::/124")).description
        == "out of subnets: every subnet between IPv6SubnetMin and IPv6SubnetMax of fc00::/124 is leased"
    )
  }
}
