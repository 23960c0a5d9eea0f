import FlannelCore
import Foundation
import SubnetManager

/// flanneld's metrics on a `MetricsRegistry`: declared once, fed by `update(...)` calls
/// from the daemon (after each lease event, and on a timer for the data plane).
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
  let udpPackets: MetricsRegistry.Family
  let udpBytes: MetricsRegistry.Family
  let udpDrops: MetricsRegistry.Family
  let udpEnters: MetricsRegistry.Family
  let udpWorkerPackets: MetricsRegistry.Family
  let udpWorkerEnters: MetricsRegistry.Family
  let udpOffloadPackets: MetricsRegistry.Family
  let udpOffloadActive: MetricsRegistry.Family
  let udpOffloadsDisabled: MetricsRegistry.Family
  let udpRouteGeneration: MetricsRegistry.Family
  let udpRoutes: MetricsRegistry.Family

  public init(registry: MetricsRegistry = MetricsRegistry()) {
    self.registry = registry
    leaseInfo = registry.gauge(
      "flannel_lease_info", help: "This node's lease: 1 for the current subnet and public IP.")
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
    udpPackets = registry.counter(
      "flannel_udp_packets_total", help: "Packets forwarded by the udp backend, by direction.")
    udpBytes = registry.counter(
      "flannel_udp_bytes_total", help: "Bytes of inner packets forwarded by the udp backend.")
    udpDrops = registry.counter(
      "flannel_udp_dropped_packets_total", help: "Packets the udp backend dropped, by reason.")
    udpEnters = registry.counter(
      "flannel_udp_io_uring_enters_total",
      help: "io_uring_enter calls of the udp forwarders (each submits and reaps a batch).")
    udpWorkerPackets = registry.counter(
      "flannel_udp_worker_packets_total",
      help:
        "Packets forwarded by each udp worker thread, by direction: an idle worker or one doing most of the work means flows do not spread over the workers."
    )
    udpWorkerEnters = registry.counter(
      "flannel_udp_worker_io_uring_enters_total",
      help:
        "io_uring_enter calls of each udp worker thread (its packets / its enters = how well it batches)."
    )
    udpOffloadPackets = registry.counter(
      "flannel_udp_offload_packets_total",
      help:
        "Offload work of the udp backend, by kind: TUN super-packets read and the packets cut from them, socket sends and receives (fewer than packets with UDP GSO/GRO), coalesced TUN writes and the packets merged into them."
    )
    udpOffloadActive = registry.gauge(
      "flannel_udp_offload_active",
      help:
        "1 when the udp backend's offload (a -udp-offloads word) is on right now, 0 when off: asked for but refused by the kernel, or turned off at run time."
    )
    udpOffloadsDisabled = registry.counter(
      "flannel_udp_offloads_disabled_total",
      help: "Times a udp offload turned itself off because the kernel refused it (see the log).")
    udpRouteGeneration = registry.gauge(
      "flannel_udp_route_table_generation",
      help:
        "Route tables the udp backend handed to its forwarders: it moves when a lease event has reached the data plane."
    )
    udpRoutes = registry.gauge(
      "flannel_udp_route_table_routes",
      help: "Routes (other nodes' subnets) in the udp forwarders' current table.")
  }

  public func update(udpRouteTableGeneration generation: UInt64, routes: Int) {
    udpRouteGeneration.set(Double(generation))
    udpRoutes.set(Double(routes))
  }

  /// The current own lease (nil: none yet, or lost).
  public func update(lease: Lease?) {
    leaseInfo.reset()
    leaseExpiry.reset()
    guard let lease else { return }
    leaseInfo.set(
      1,
      labels: ["subnet": lease.subnet.description, "public_ip": lease.attrs.publicIP.description])
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

  public func update(dataPlane counters: DataPlaneCounters) {
    udpPackets.set(Double(counters.packetsSent), labels: ["direction": "tun_to_udp"])
    udpPackets.set(Double(counters.packetsReceived), labels: ["direction": "udp_to_tun"])
    udpBytes.set(Double(counters.bytesSent), labels: ["direction": "tun_to_udp"])
    udpBytes.set(Double(counters.bytesReceived), labels: ["direction": "udp_to_tun"])
    for (reason, count) in counters.drops {
      udpDrops.set(Double(count), labels: ["reason": reason])
    }
    udpEnters.set(Double(counters.ioUringEnters))
    for (index, worker) in counters.workers.enumerated() {
      let id = String(index)
      udpWorkerPackets.set(
        Double(worker.packetsSent), labels: ["worker": id, "direction": "tun_to_udp"])
      udpWorkerPackets.set(
        Double(worker.packetsReceived), labels: ["worker": id, "direction": "udp_to_tun"])
      udpWorkerEnters.set(Double(worker.ioUringEnters), labels: ["worker": id])
    }
    for (kind, count) in counters.offloadPackets {
      udpOffloadPackets.set(Double(count), labels: ["kind": kind.rawValue])
    }
    for (offload, on) in counters.activeOffloads {
      udpOffloadActive.set(on ? 1 : 0, labels: ["offload": offload])
    }
    udpOffloadsDisabled.set(Double(counters.offloadsDisabled))
  }
}
