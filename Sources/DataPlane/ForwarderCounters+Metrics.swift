/// The udp backend's /metrics families, in the order /metrics lists them. The counter-fed ones
/// get their series from `Counter.info.series`; `offloadActive` and the route table gauges are
/// filled by the backend. After them come `flannel_udp_forwarder_<name>_total{worker}`, one per
/// `Counter` (`Counter.metricName`).
public enum UDPMetricFamily: String, CaseIterable, Sendable {
  case packets = "flannel_udp_packets_total"
  case bytes = "flannel_udp_bytes_total"
  case drops = "flannel_udp_dropped_packets_total"
  case ioUringEnters = "flannel_udp_io_uring_enters_total"
  case workerPackets = "flannel_udp_worker_packets_total"
  case workerIoUringEnters = "flannel_udp_worker_io_uring_enters_total"
  case offloadPackets = "flannel_udp_offload_packets_total"
  case offloadActive = "flannel_udp_offload_active"
  case offloadsDisabled = "flannel_udp_offloads_disabled_total"
  case routeTableGeneration = "flannel_udp_route_table_generation"
  case routeTableRoutes = "flannel_udp_route_table_routes"

  public var name: String { rawValue }

  public var isGauge: Bool {
    switch self {
    case .offloadActive, .routeTableGeneration, .routeTableRoutes: true
    default: false
    }
  }

  /// The family that shows the same series per worker (label `worker`), if any.
  public var perWorker: UDPMetricFamily? {
    switch self {
    case .packets: .workerPackets
    case .ioUringEnters: .workerIoUringEnters
    default: nil
    }
  }

  public var help: String {
    switch self {
    case .packets: "Packets forwarded by the udp backend, by direction."
    case .bytes: "Bytes of inner packets forwarded by the udp backend."
    case .drops: "Packets the udp backend dropped, by reason."
    case .ioUringEnters:
      "io_uring_enter calls of the udp forwarders (each submits and reaps a batch)."
    case .workerPackets:
      "Packets forwarded by each udp worker thread, by direction: an idle worker or one doing most of the work means flows do not spread over the workers."
    case .workerIoUringEnters:
      "io_uring_enter calls of each udp worker thread (its packets / its enters = how well it batches)."
    case .offloadPackets:
      "Offload work of the udp backend, by kind: TUN super-packets read and the packets cut from them, socket sends and receives (fewer than packets with UDP GSO/GRO), coalesced TUN writes and the packets merged into them."
    case .offloadActive:
      "1 when the udp backend's offload (a -udp-offloads word) is on right now, 0 when off: asked for but refused by the kernel, or turned off at run time."
    case .offloadsDisabled:
      "Times a udp offload turned itself off because the kernel refused it (see the log)."
    case .routeTableGeneration:
      "Route tables the udp backend handed to its forwarders: it moves when a lease event has reached the data plane."
    case .routeTableRoutes:
      "Routes (other nodes' subnets) in the udp forwarders' current table."
    }
  }
}

extension Counter {
  /// Its own /metrics family, one sample per worker (label `worker`).
  public var metricName: String { "flannel_udp_forwarder_\(info.name)_total" }

  /// The HELP text of that family.
  public var metricHelp: String { info.help + " Per udp worker thread." }
}
