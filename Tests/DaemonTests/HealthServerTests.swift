import Backends
import Daemon
import FlannelCore
import Foundation
import TestSupport
import Testing

@testable import SubnetManager

/// The health listener on loopback, scraped with curl like a kubelet or Prometheus would.
@Suite struct HealthServerTests {
  /// Status line, selected headers and body of one request.
  static func fetch(_ server: HealthServer, _ path: String, method: String = "GET") throws
    -> (status: String, contentType: String, body: String)
  {
    let output = try Shell.run(
      "/usr/bin/curl",
      ["-s", "-i", "-m", "5", "-X", method] + (method == "HEAD" ? ["-I"] : [])
        + ["http://127.0.0.1:\(server.port)\(path)"])
    let parts = output.components(separatedBy: "\r\n\r\n")
    let head = parts[0].components(separatedBy: "\r\n")
    let type =
      head.first { $0.lowercased().hasPrefix("content-type:") }
      .map { String($0.dropFirst("content-type:".count)).trimmingCharacters(in: .whitespaces) }
      ?? ""
    return (head[0], type, parts.dropFirst().joined(separator: "\r\n\r\n"))
  }

  @Test func healthzAndReadyzAnswerStockTexts() throws {
    let server = try HealthServer(ip: "127.0.0.1", port: 0)
    server.start()
    defer { server.stop() }
    #expect(server.port > 0 && server.address == "127.0.0.1:\(server.port)")
    let health = try Self.fetch(server, "/healthz")
    #expect(health.status == "HTTP/1.1 200 OK")
    #expect(health.body == "flanneld is running")
    #expect(health.contentType == "text/plain; charset=utf-8")
    let notReady = try Self.fetch(server, "/readyz")
    #expect(notReady.status == "HTTP/1.1 503 Service Unavailable")
    #expect(notReady.body == "flanneld is not ready yet")
    server.markReady()
    let ready = try Self.fetch(server, "/readyz?verbose")
    #expect(ready.status == "HTTP/1.1 200 OK" && ready.body == "flanneld is ready")
    #expect(try Self.fetch(server, "/metrics").status.hasSuffix("404 Not Found"))
    let missing = try Self.fetch(server, "/nothing")
    #expect(missing.status == "HTTP/1.1 404 Not Found" && missing.body == "404 page not found\n")
    #expect(
      try Self.fetch(server, "/healthz", method: "POST").status.hasSuffix("405 Method Not Allowed"))
    let head = try Self.fetch(server, "/healthz", method: "HEAD")
    #expect(head.status == "HTTP/1.1 200 OK" && head.body.isEmpty)
  }

  @Test func metricsAreScrapedFromTheRegistry() throws {
    let metrics = FlannelMetrics()
    let server = try HealthServer(ip: "127.0.0.1", port: 0, metrics: metrics.registry.render)
    server.start()
    defer { server.stop() }
    var stats = SubnetManagerStats()
    stats.renewals = 3
    stats.renewalErrors = 1
    stats.watchErrors = 2
    stats.listings = 4
    metrics.update(stats: stats)
    metrics.update(
      lease: Lease(
        subnet: IPv4Network("10.1.15.0/24")!,
        attrs: LeaseAttrs(publicIP: IPv4Address("192.168.9.1")!),
        expiration: Date(timeIntervalSince1970: 1_800_000_000)))
    metrics.update(leasesKnown: 17)
    // A backend's families after flanneld's own, in the backend's order.
    func counter(_ name: String, _ samples: [([String: String], Double)]) -> BackendMetric {
      BackendMetric(
        name: name, help: "\(name) help", kind: .counter,
        samples: samples.map { BackendMetric.Sample(labels: $0.0, value: $0.1) })
    }
    metrics.update(backend: [
      counter(
        "flannel_udp_packets_total",
        [(["direction": "tun_to_udp"], 10), (["direction": "udp_to_tun"], 9)]),
      counter(
        "flannel_udp_bytes_total",
        [(["direction": "tun_to_udp"], 1400), (["direction": "udp_to_tun"], 1300)]),
      counter(
        "flannel_udp_dropped_packets_total",
        [(["reason": "no_route"], 2), (["reason": "too_big"], 1)]),
      counter("flannel_udp_io_uring_enters_total", [([:], 5)]),
      counter("flannel_udp_offloads_disabled_total", [([:], 0)]),
    ])
    let scraped = try Self.fetch(server, "/metrics")
    #expect(scraped.status == "HTTP/1.1 200 OK")
    #expect(scraped.contentType == "text/plain; version=0.0.4; charset=utf-8")
    let samples = scraped.body.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    #expect(
      samples == [
        "flannel_lease_info{public_ip=\"192.168.9.1\",subnet=\"10.1.15.0/24\"} 1",
        "flannel_lease_expiry_timestamp_seconds 1800000000",
        "flannel_lease_renewals_total 3",
        "flannel_lease_renewal_failures_total 1",
        "flannel_lease_reacquisitions_total 0",
        "flannel_etcd_watch_errors_total 2",
        "flannel_etcd_watch_reconnects_total 2",
        "flannel_etcd_listings_total 4",
        "flannel_etcd_history_lost_total 0",
        "flannel_leases_known 17",
        "flannel_udp_packets_total{direction=\"tun_to_udp\"} 10",
        "flannel_udp_packets_total{direction=\"udp_to_tun\"} 9",
        "flannel_udp_bytes_total{direction=\"tun_to_udp\"} 1400",
        "flannel_udp_bytes_total{direction=\"udp_to_tun\"} 1300",
        "flannel_udp_dropped_packets_total{reason=\"no_route\"} 2",
        "flannel_udp_dropped_packets_total{reason=\"too_big\"} 1",
        "flannel_udp_io_uring_enters_total 5",
        "flannel_udp_offloads_disabled_total 0",
      ])
    // A new lease replaces the old subnet's sample instead of adding one.
    metrics.update(
      lease: Lease(
        subnet: IPv4Network("10.1.16.0/24")!,
        attrs: LeaseAttrs(publicIP: IPv4Address("192.168.9.1")!),
        expiration: nil))
    let after = try Self.fetch(server, "/metrics").body
    #expect(after.contains("subnet=\"10.1.16.0/24\"} 1") && !after.contains("10.1.15.0"))
    #expect(!after.contains("flannel_lease_expiry_timestamp_seconds 1"))
  }

  @Test func busyPortIsAStartupError() throws {
    let first = try HealthServer(ip: "127.0.0.1", port: 0)
    defer { first.stop() }
    let error = #expect(throws: HealthServerError.self) {
      _ = try HealthServer(ip: "127.0.0.1", port: first.port)
    }
    #expect(
      error?.description
        == "Start healthz server error. listen tcp 127.0.0.1:\(first.port): Address already in use")
  }

  @Test func stopReleasesThePort() throws {
    let server = try HealthServer(ip: "127.0.0.1", port: 0)
    server.start()
    #expect(try Self.fetch(server, "/healthz").body == "flanneld is running")
    let port = server.port
    server.stop()
    let again = try HealthServer(ip: "127.0.0.1", port: port)
    again.stop()
  }
}
