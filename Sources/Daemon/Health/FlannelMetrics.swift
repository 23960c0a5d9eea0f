import Backends
import FlannelCore
import Foundation
import SubnetManager

/// flanneld's metrics on a `MetricsRegistry`: declared once, fed by `update(...)` calls
/// from the daemon (after each lease event, and at scrape time for the backend's own).
public final class FlannelMetrics: Sendable {
  public let registry: MetricsRegistry
  let leaseInfo: MetricsRegistry.Family
  let leaseExpiry: MetricsRegistry.Family
  let renewals: MetricsRegistry.Family
  let renewalFailures: MetricsRegistry.Family
  let reacquisitions: MetricsRegistry.Family
  let etcdErrors: MetricsRegistry.Family
  let etcdReconnects: MetricsRegistry.Family
  let etcdRelists: MetricsRegistry.Family
  let etcdHistoryLost: MetricsRegistry.Family
  let leasesKnown: MetricsRegistry.Family

  public init(registry: MetricsRegistry = MetricsRegistry()) {
    self.registry = registry
    leaseInfo = registry.gauge(
      "flannel_lease_info",
      help: "This node's lease: 1 for the current subnet and public IP (and IPv6 ones).")
    leaseExpiry = registry.gauge(
      "flannel_lease_expiry_timestamp_seconds",
      help: "When this node's lease expires, in Unix seconds (absent when unknown).")
    renewals = registry.counter(
      "flannel_lease_renewals_total", help: "Successful renewals of this node's lease.")
    renewalFailures = registry.counter(
      "flannel_lease_renewal_failures_total", help: "Failed attempts to renew this node's lease.")
    reacquisitions = registry.counter(
      "flannel_lease_reacquisitions_total",
      help: "Times this node's lease was lost and acquired again.")
    etcdErrors = registry.counter(
      "flannel_etcd_watch_errors_total", help: "etcd watch connections that failed.")
    etcdReconnects = registry.counter(
      "flannel_etcd_watch_reconnects_total",
      help: "etcd watch connections re-established after an error.")
    etcdRelists = registry.counter(
      "flannel_etcd_listings_total",
      help: "Full listings of the subnet leases (first sync and every re-list).")
    etcdHistoryLost = registry.counter(
      "flannel_etcd_history_lost_total",
      help: "Re-lists because etcd no longer had the watch's history.")
    leasesKnown = registry.gauge(
      "flannel_leases_known", help: "Subnet leases of the cluster this node knows about.")
  }

  /// The current own lease (nil: none yet, or lost).
  public func update(lease: Lease?) {
    leaseInfo.reset()
    leaseExpiry.reset()
    guard let lease else { return }
    // An IPv6-only lease's IPv4 half (0.0.0.0/0, PublicIP 0.0.0.0) names nothing: left out.
    var labels: [String: String] = [:]
    if !lease.subnets.ipv4IsEmpty {
      labels["subnet"] = lease.subnet.description
      labels["public_ip"] = lease.attrs.publicIP.description
    }
    // Dual-stack and IPv6-only: the IPv6 half.
    if let ipv6 = lease.ipv6Subnet { labels["ipv6_subnet"] = ipv6.description }
    if let publicIPv6 = lease.attrs.publicIPv6 { labels["public_ipv6"] = publicIPv6.description }
    leaseInfo.set(1, labels: labels)
    if let expiration = lease.expiration {
      leaseExpiry.set(expiration.timeIntervalSince1970.rounded())
    }
  }

  public func update(stats: SubnetManagerStats) {
    renewals.set(Double(stats.renewals))
    renewalFailures.set(Double(stats.renewalErrors))
    reacquisitions.set(Double(stats.reacquisitions))
    etcdErrors.set(Double(stats.watchErrors))
    // Every failed watch is resumed: the manager counts both as one event today.
    etcdReconnects.set(Double(stats.watchErrors))
    etcdRelists.set(Double(stats.listings))
    etcdHistoryLost.set(Double(stats.historyLost))
  }

  public func update(leasesKnown count: Int) {
    leasesKnown.set(Double(count))
  }

  /// The backend's families (`Backend.metrics()`, at scrape time): each declared on first
  /// sight, after flanneld's own, and its samples set.
  public func update(backend families: [BackendMetric]) {
    for metric in families {
      let family =
        switch metric.kind {
        case .counter: registry.counter(metric.name, help: metric.help)
        case .gauge: registry.gauge(metric.name, help: metric.help)
        }
      for sample in metric.samples { family.set(sample.value, labels: sample.labels) }
    }
  }
}
