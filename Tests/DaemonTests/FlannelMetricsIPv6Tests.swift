import FlannelCore
import Testing

@testable import Daemon

/// flannel_lease_info of a dual-stack lease names the IPv6 subnet and PublicIPv6 too; an
/// IPv4 lease's labels stay as they were; an IPv6-only lease has no IPv4 labels.
@Suite struct FlannelMetricsIPv6Tests {
  static func leaseInfo(_ lease: Lease) -> [String] {
    let metrics = FlannelMetrics()
    metrics.update(lease: lease)
    return metrics.registry.render().split(separator: "\n").map(String.init)
      .filter { $0.hasPrefix("flannel_lease_info{") }
  }

  @Test func dualStackLeaseInfo() {
    let lease = Lease(
      subnet: IPv4Network("10.1.15.0/24")!, ipv6Subnet: IPv6Network("fd10:0:0:f::/64"),
      attrs: LeaseAttrs(publicIP: IPv4Address("192.168.9.1")!, publicIPv6: IPv6Address("fd00::9")),
      expiration: nil)
    #expect(
      Self.leaseInfo(lease) == [
        "flannel_lease_info{ipv6_subnet=\"fd10:0:0:f::/64\",public_ip=\"192.168.9.1\",public_ipv6=\"fd00::9\",subnet=\"10.1.15.0/24\"} 1"
      ])
  }

  @Test func ipv4LeaseInfo() {
    let lease = Lease(
      subnet: IPv4Network("10.1.15.0/24")!,
      attrs: LeaseAttrs(publicIP: IPv4Address("192.168.9.1")!),
      expiration: nil)
    #expect(
      Self.leaseInfo(lease) == [
        "flannel_lease_info{public_ip=\"192.168.9.1\",subnet=\"10.1.15.0/24\"} 1"
      ])
  }

  /// An IPv6-only network's lease (key 0.0.0.0-0&<v6>): no 0.0.0.0/0 subnet label.
  @Test func ipv6OnlyLeaseInfo() {
    let lease = Lease(
      subnet: IPv4Network("0.0.0.0/0")!, ipv6Subnet: IPv6Network("fd10:0:0:f::/64"),
      attrs: LeaseAttrs(publicIP: IPv4Address("0.0.0.0")!, publicIPv6: IPv6Address("fd00::9")),
      expiration: nil)
    #expect(
      Self.leaseInfo(lease) == [
        "flannel_lease_info{ipv6_subnet=\"fd10:0:0:f::/64\",public_ipv6=\"fd00::9\"} 1"
      ])
  }
}
