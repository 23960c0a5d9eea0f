import Daemon
import Foundation
import Testing

/// Each bound of the health listener on its own, with raw sockets on 127.0.0.1.
@Suite struct HealthServerLimitsTests {
  static let healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

  static func started(
    limits: HealthServerLimits = .init(), metrics: (@Sendable () -> String)? = nil
  ) throws -> HealthServer {
    let server = try HealthServer(ip: "127.0.0.1", port: 0, metrics: metrics, limits: limits)
    server.start()
    return server
  }

  static func connect(_ server: HealthServer) throws -> ProbeSocket {
    try #require(ProbeSocket.connect(port: server.port, timeout: .seconds(1)))
  }

  @Test func defaultsAreTheDocumentedOnes() {
    let limits = HealthServerLimits()
    #expect(limits.maxConnections == 64 && limits.requestDeadline == .seconds(5))
    #expect(limits.maxRequestBytes == 8192 && limits.backlog >= 128)
  }

  @Test func fullTableClosesTheOldestIdleConnectionFirst() throws {
    let server = try Self.started()
    defer { server.stop() }
    let cap = server.limits.maxConnections
    // The first connection is busy (half a request head), the next ones idle.
    let busy = try Self.connect(server)
    defer { busy.close() }
    busy.send("GET /hea")
    var idle: [ProbeSocket] = []
    defer { idle.forEach { $0.close() } }
    for _ in 1..<(cap - 1) { idle.append(try Self.connect(server)) }
    // The cap-th one asks once and stays open: when its answer is back, the server has
    // admitted all before it and seen the busy one's bytes (one event loop, in order).
    let keptAlive = try Self.connect(server)
    defer { keptAlive.close() }
    keptAlive.send(Self.healthz)
    #expect(keptAlive.readReply(by: .now + .seconds(1))?.status == 200)
    #expect(!idle[0].isClosedNow())

    let newcomer = try Self.connect(server)
    defer { newcomer.close() }
    #expect(idle[0].closed(by: .now + .seconds(2)), "the oldest idle connection makes room")
    #expect(!busy.isClosedNow() && !idle[1].isClosedNow() && !keptAlive.isClosedNow())
    newcomer.send(Self.healthz)
    #expect(newcomer.readReply(by: .now + .seconds(1))?.status == 200)
    // The busy one was kept and still gets its answer.
    busy.send("lthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    #expect(busy.readReply(by: .now + .seconds(1))?.body == "flanneld is running")
  }

  @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
    let server = try Self.started(metrics: { "flannel_leases_known 7\n" })
    defer { server.stop() }
    let scraper = try Self.connect(server)
    defer { scraper.close() }
    for path in ["/metrics", "/healthz", "/metrics"] {
      scraper.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
      let reply = scraper.readReply(by: .now + .seconds(1))
      #expect(reply?.status == 200 && reply?.headers["connection"] == "keep-alive")
    }
    #expect(!scraper.isClosedNow())
    // Two requests in one write come back in order.
    scraper.send(
      "GET /readyz HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(scraper.readReply(by: .now + .seconds(1))?.status == 503)
    #expect(scraper.readReply(by: .now + .seconds(1))?.body == "flannel_leases_known 7\n")

    // HTTP/1.0 without keep-alive, and `Connection: close`, end after the answer.
    for request in [
      "GET /healthz HTTP/1.0\r\n\r\n", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
    ] {
      let once = try Self.connect(server)
      defer { once.close() }
      once.send(request)
      #expect(once.readReply(by: .now + .seconds(1))?.headers["connection"] == "close")
      #expect(once.closed(by: .now + .seconds(1)))
    }
  }

  @Test func idleKeepAliveConnectionsAreClosedAfterTheirTimeout() throws {
    var limits = HealthServerLimits()
    limits.keepAliveIdle = .milliseconds(300)
    let server = try Self.started(limits: limits)
    defer { server.stop() }
    let client = try Self.connect(server)
    defer { client.close() }
    client.send(Self.healthz)
    #expect(client.readReply(by: .now + .seconds(1))?.status == 200)
    let answered = ContinuousClock.now
    #expect(client.closed(by: .now + .seconds(3)))
    #expect(ContinuousClock.now - answered >= .milliseconds(250))
  }

  @Test func oversizedRequestHeadIsRefusedWith431() throws {
    let server = try Self.started()
    defer { server.stop() }
    let limit = server.limits.maxRequestBytes
    let prefix = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fill: "
    // Just inside the bound: served.
    let fits = try Self.connect(server)
    defer { fits.close() }
    fits.send(prefix + String(repeating: "a", count: limit - prefix.utf8.count - 4) + "\r\n\r\n")
    #expect(fits.readReply(by: .now + .seconds(1))?.status == 200)
    // One byte more, never finished: 431 at once, then closed.
    let large = try Self.connect(server)
    defer { large.close() }
    large.send(prefix + String(repeating: "a", count: limit - prefix.utf8.count + 1))
    let reply = large.readReply(by: .now + .seconds(1))
    #expect(reply?.status == 431 && reply?.body == "431 Request Header Fields Too Large")
    #expect(large.closed(by: .now + .seconds(2)))
  }

  @Test func malformedRequestGets400AndClose() throws {
    let server = try Self.started()
    defer { server.stop() }
    let client = try Self.connect(server)
    defer { client.close() }
    client.send("NOT AN HTTP REQUEST\r\n\r\n")
    let reply = client.readReply(by: .now + .seconds(1))
    #expect(reply?.status == 400 && reply?.body == "400 Bad Request")
    #expect(client.closed(by: .now + .seconds(1)))
  }

  /// The data plane or the etcd loop holding the metrics registry's lock stalls a scrape,
  /// never a probe.
  @Test func healthzAnswersWhileAMetricsRenderIsBlocked() throws {
    let gate = DispatchSemaphore(value: 0)
    let server = try Self.started(metrics: {
      gate.wait()
      return "rendered\n"
    })
    defer { server.stop() }
    defer { gate.signal() }  // before stop, which waits for the render
    let scrape = try Self.connect(server)
    defer { scrape.close() }
    scrape.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for _ in 0..<3 {
      let probe = try Self.connect(server)
      defer { probe.close() }
      probe.send(Self.healthz)
      #expect(probe.readReply(by: .now + .seconds(1))?.status == 200)
      probe.send("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
      #expect(probe.readReply(by: .now + .seconds(1))?.status == 503)
    }
    server.markReady()
    let probe = try Self.connect(server)
    defer { probe.close() }
    probe.send("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    #expect(probe.readReply(by: .now + .seconds(1))?.body == "flanneld is ready")
    #expect(scrape.readReply(by: .now + .milliseconds(100)) == nil)
    gate.signal()
    #expect(scrape.readReply(by: .now + .seconds(2))?.body == "rendered\n")
  }
}
