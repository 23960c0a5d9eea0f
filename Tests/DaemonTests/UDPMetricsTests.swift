import Backends
import Daemon
import DataPlane
import Testing

/// The udp backend's forwarder counters as /metrics shows them: totals, per worker, offload
/// work by kind and which offloads are on. Every value below is distinct, so a series fed from
/// the wrong counter, or a missing one, fails.
@Suite struct UDPMetricsTests {
  static func worker0() -> ForwarderCounters {
    var c = ForwarderCounters()
    c[.udpPacketsSent] = 11
    c[.udpBytesSent] = 1100
    c[.tunPacketsWritten] = 20
    c[.tunBytesWritten] = 2000
    c[.tunCoalescedWrites] = 2
    c[.tunCoalescedPackets] = 9
    c[.tunCoalescedUDPWrites] = 2
    c[.tunCoalescedUDPPackets] = 6
    c[.submissions] = 5
    c[.tunSuperPackets] = 3
    c[.tunSplitPackets] = 31
    c[.udpSends] = 4
    c[.udpReceives] = 6
    c[.offloadsDisabled] = 1
    c[.dropOffload] = 7
    return c
  }

  static func worker1() -> ForwarderCounters {
    var c = ForwarderCounters()
    c[.udpPacketsSent] = 13
    c[.udpBytesSent] = 1300
    c[.tunPacketsWritten] = 40
    c[.tunBytesWritten] = 4000
    c[.tunCoalescedWrites] = 5
    c[.tunCoalescedPackets] = 50
    c[.submissions] = 9
    c[.tunSuperPackets] = 10
    c[.tunSplitPackets] = 100
    c[.udpSends] = 12
    c[.udpReceives] = 14
    return c
  }

  /// The rendered samples (no comments) of the families whose names start with `prefix`.
  static func samples(_ text: String, _ prefix: String) -> [String] {
    text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map(String.init)
  }

  @Test func twoWorkersAppearPerWorkerAndSummed() {
    let metrics = FlannelMetrics()
    metrics.update(
      backend: UDPBackend.metrics(
        dataPlane: (
          workers: [Self.worker0(), Self.worker1()],
          offloads: [.checksum, .tcpSegmentation, .socketReceiveOffload]
        ), routeTable: nil))
    let text = metrics.registry.render()
    // udp_to_tun counts inner packets: worker 0 wrote 20 packets, 4 of them super-packets
    // holding 15, so 31; worker 1 40 − 5 + 50 = 85.
    #expect(
      Self.samples(text, "flannel_udp_worker_") == [
        "flannel_udp_worker_packets_total{direction=\"tun_to_udp\",worker=\"0\"} 11",
        "flannel_udp_worker_packets_total{direction=\"tun_to_udp\",worker=\"1\"} 13",
        "flannel_udp_worker_packets_total{direction=\"udp_to_tun\",worker=\"0\"} 31",
        "flannel_udp_worker_packets_total{direction=\"udp_to_tun\",worker=\"1\"} 85",
        "flannel_udp_worker_io_uring_enters_total{worker=\"0\"} 5",
        "flannel_udp_worker_io_uring_enters_total{worker=\"1\"} 9",
      ])
    #expect(
      Self.samples(text, "flannel_udp_offload") == [
        "flannel_udp_offload_packets_total{kind=\"coalesced_tcp_packets\"} 59",
        "flannel_udp_offload_packets_total{kind=\"coalesced_tcp_writes\"} 7",
        "flannel_udp_offload_packets_total{kind=\"coalesced_udp_packets\"} 6",
        "flannel_udp_offload_packets_total{kind=\"coalesced_udp_writes\"} 2",
        "flannel_udp_offload_packets_total{kind=\"super_packet_segments_sent\"} 131",
        "flannel_udp_offload_packets_total{kind=\"super_packets_read\"} 13",
        "flannel_udp_offload_packets_total{kind=\"udp_receives\"} 20",
        "flannel_udp_offload_packets_total{kind=\"udp_sends\"} 16",
        "flannel_udp_offload_active{offload=\"csum\"} 1",
        "flannel_udp_offload_active{offload=\"gro\"} 0",
        "flannel_udp_offload_active{offload=\"tso\"} 1",
        "flannel_udp_offload_active{offload=\"udp-gro\"} 1",
        "flannel_udp_offload_active{offload=\"udp-gso\"} 0",
        "flannel_udp_offload_active{offload=\"uso\"} 0",
        "flannel_udp_offloads_disabled_total 1",
      ])
    // The totals are the workers' sums.
    for line in [
      "flannel_udp_packets_total{direction=\"tun_to_udp\"} 24",
      "flannel_udp_packets_total{direction=\"udp_to_tun\"} 116",
      "flannel_udp_bytes_total{direction=\"tun_to_udp\"} 2400",
      "flannel_udp_bytes_total{direction=\"udp_to_tun\"} 6000",
      "flannel_udp_dropped_packets_total{reason=\"offload\"} 7",
      "flannel_udp_io_uring_enters_total 14",
    ] {
      #expect(text.contains(line + "\n"), "missing \(line)")
    }
    // Each new series says what it is for.
    for name in [
      "flannel_udp_worker_packets_total", "flannel_udp_worker_io_uring_enters_total",
      "flannel_udp_offload_packets_total", "flannel_udp_offload_active",
      "flannel_udp_offloads_disabled_total",
    ] {
      #expect(text.contains("# HELP \(name) "), "no HELP for \(name)")
    }
  }

  /// The offload gauges use the -udp-offloads words: what a list turns on reads 1, the rest 0.
  @Test(arguments: [
    ("none", [String]()),
    ("all", ["csum", "tso", "uso", "gro", "udp-gso", "udp-gro"]),
    ("uso,udp-gso", ["csum", "uso", "udp-gso"]),
    ("gro,udp-gro", ["gro", "udp-gro"]),
  ])
  func activeOffloadsUseTheFlagWords(list: String, on: [String]) throws {
    let offloads = try #require(TunOffloads(list: list))
    let metrics = FlannelMetrics()
    metrics.update(
      backend: UDPBackend.metrics(dataPlane: (workers: [], offloads: offloads), routeTable: nil))
    let text = metrics.registry.render()
    for word in ["csum", "tso", "uso", "gro", "udp-gso", "udp-gro"] {
      let value = on.contains(word) ? 1 : 0
      #expect(
        text.contains("flannel_udp_offload_active{offload=\"\(word)\"} \(value)\n"),
        "\(list): \(word) should read \(value)")
    }
  }

  /// Every counter also has its own family, one sample per worker, named and explained by
  /// `Counter.info` (what the lab scripts read: packets moved per worker, SQEs, …).
  @Test func everyCounterHasAPerWorkerFamily() {
    let metrics = FlannelMetrics()
    metrics.update(
      backend: UDPBackend.metrics(
        dataPlane: (workers: [Self.worker0(), Self.worker1()], offloads: []),
        routeTable: (generation: 3, routes: 2)))
    let text = metrics.registry.render()
    #expect(
      Self.samples(text, "flannel_udp_forwarder_tun_packets_written_total") == [
        "flannel_udp_forwarder_tun_packets_written_total{worker=\"0\"} 20",
        "flannel_udp_forwarder_tun_packets_written_total{worker=\"1\"} 40",
      ])
    #expect(
      Self.samples(text, "flannel_udp_forwarder_read_errors_total") == [
        "flannel_udp_forwarder_read_errors_total{worker=\"0\"} 0",
        "flannel_udp_forwarder_read_errors_total{worker=\"1\"} 0",
      ])
    for counter in Counter.allCases {
      #expect(
        text.contains("# HELP \(counter.metricName) \(counter.info.help) Per udp worker thread.\n"))
      #expect(text.contains("# TYPE \(counter.metricName) counter\n"))
    }
    #expect(
      Self.samples(text, "flannel_udp_route_table_") == [
        "flannel_udp_route_table_generation 3", "flannel_udp_route_table_routes 2",
      ])
  }

  /// Before the forwarders run only the route table has samples.
  @Test func beforeConfigureOnlyTheRouteTable() {
    let families = UDPBackend.metrics(dataPlane: nil, routeTable: (generation: 0, routes: 0))
    #expect(
      families.filter { !$0.samples.isEmpty }.map(\.name) == [
        "flannel_udp_route_table_generation", "flannel_udp_route_table_routes",
      ])
    #expect(families.count == UDPMetricFamily.allCases.count + Counter.allCases.count)
  }
}
