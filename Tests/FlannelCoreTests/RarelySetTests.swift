import FlannelCore
import Testing

/// The IPv6 half of a lease kept out of line: it reads, writes and compares as the plain
/// fields did, and an IPv4 lease stays small.
@Suite struct RarelySetTests {
  @Test func comparesByValue() {
    #expect(RarelySet(IPv6Network("fd10::/64")) == RarelySet(IPv6Network("fd10::/64")))
    #expect(RarelySet(IPv6Network("fd10::/64")) != RarelySet(IPv6Network("fd10:0:0:1::/64")))
    #expect(RarelySet<IPv6Network>(nil) == RarelySet(nil))
    #expect(RarelySet(IPv6Network("fd10::/64")) != RarelySet(nil))
  }

  @Test func leaseFieldsReadAndWriteAsBefore() {
    var attrs = LeaseAttrs(publicIP: IPv4Address("192.168.1.1")!)
    #expect(attrs.publicIPv6 == nil && attrs.backendV6Data == nil)
    attrs.publicIPv6 = IPv6Address("fd00::1")
    attrs.backendV6Data = .object([JSONMember("VNI", .int(1))])
    let copy = attrs
    attrs.publicIPv6 = nil
    #expect(attrs.backendV6Data == .object([JSONMember("VNI", .int(1))]))
    #expect(copy.publicIPv6 == IPv6Address("fd00::1"), "a copy keeps its own value")
    #expect(attrs != copy)
    attrs.publicIPv6 = IPv6Address("fd00::1")
    #expect(attrs == copy)

    var lease = Lease(subnet: IPv4Network("10.1.5.0/24")!, attrs: attrs, expiration: nil)
    #expect(lease.ipv6Subnet == nil)
    lease.ipv6Subnet = IPv6Network("fd10:0:0:5::/64")
    #expect(lease.subnets == LeaseSubnets(ipv4: lease.subnet, ipv6: IPv6Network("fd10:0:0:5::/64")))
    #expect(
      lease
        == Lease(
          subnet: IPv4Network("10.1.5.0/24")!, ipv6Subnet: IPv6Network("fd10:0:0:5::/64"),
          attrs: copy, expiration: nil))
  }

  /// Every copy of a 20,000-lease table pays a lease's size (see `RarelySet`).
  @Test func anIPv4LeaseStaysSmall() {
    #expect(MemoryLayout<Lease>.stride <= 96)
    #expect(MemoryLayout<LeaseAttrs>.stride <= 56)
  }
}
