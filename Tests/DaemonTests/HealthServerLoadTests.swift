import Daemon
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The probe listener under the clients that starved the one-connection-at-a-time server
/// (issue 12): 64 connections that send nothing and 16 that send one byte a second, while a
/// kubelet-like client asks for /healthz with a 1 s deadline. In-process on 127.0.0.1: no
/// traffic leaves loopback.
@Suite struct HealthServerLoadTests {
  static let idleClients = 64
  static let slowClients = 16
  static let probes = 20

  @Test func healthzAnswersWhileIdleAndSlowClientsHoldConnections() throws {
    let metrics = FlannelMetrics()
    metrics.update(leasesKnown: 3)
    let server = try HealthServer(ip: "127.0.0.1", port: 0, metrics: metrics.registry.render)
    server.start()
    defer { server.stop() }
    let port = server.port

    let idle = (0..<Self.idleClients).compactMap { _ in
      ProbeSocket.connect(port: port, timeout: .milliseconds(500))
    }
    defer { idle.forEach { $0.close() } }
    let slow = (0..<Self.slowClients).compactMap { _ in
      ProbeSocket.connect(port: port, timeout: .milliseconds(500))
    }
    defer { slow.forEach { $0.close() } }
    #expect(idle.count == Self.idleClients && slow.count == Self.slowClients)

    // The slow clients dribble a request head on a thread of their own; it notes when the
    // server closes each of them (seconds after its connect).
    let closedAfter = CloseTimes(count: slow.count)
    let dribbled = DispatchSemaphore(value: 0)
    let dribbler = Thread {
      Self.dribble(slow, until: .now + .seconds(8), closedAfter: closedAfter)
      dribbled.signal()
    }
    dribbler.start()

    // Probes spread over the first two seconds, while every misbehaving client is connected.
    var latencies: [Double] = []
    var answered = 0
    for _ in 0..<Self.probes {
      let started = ContinuousClock.now
      let deadline = started + .seconds(1)
      if let probe = ProbeSocket.connect(port: port, timeout: .seconds(1)) {
        probe.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let reply = probe.readReply(by: deadline)
        probe.close()
        if reply?.status == 200 && reply?.body == "flanneld is running"
          && ContinuousClock.now <= deadline
        {
          answered += 1
        }
      }
      latencies.append(Self.seconds(ContinuousClock.now - started))
      Thread.sleep(forTimeInterval: 0.1)
    }

    let scrape = ProbeSocket.connect(port: port, timeout: .seconds(1))
    scrape?.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    let scraped = scrape?.readReply(by: .now + .seconds(1))
    scrape?.close()

    dribbled.wait()
    let closes = closedAfter.seconds.withLock { $0 }
    let sorted = latencies.sorted()
    let closedTimes = closes.compactMap { $0 }
    print(
      String(
        format:
          "healthz with %d idle + %d slow clients: %d/%d answered 200 within 1 s; "
          + "latency p50 %.2f ms, max %.2f ms; slow clients closed after %.2f–%.2f s (%d of %d)",
        idle.count, slow.count, answered, Self.probes, sorted[sorted.count / 2] * 1000,
        sorted.last! * 1000, closedTimes.min() ?? 0, closedTimes.max() ?? 0, closedTimes.count,
        slow.count))

    #expect(answered == Self.probes)
    #expect(scraped?.status == 200)
    #expect(scraped?.body.contains("flannel_leases_known 3") == true)
    // The head deadline is 5 s for the whole head, not per read: a byte a second never
    // resets it, and nothing closes them early.
    for (index, closed) in closes.enumerated() {
      #expect(closed != nil, "slow client \(index) still open after 8 s")
      if let closed { #expect(closed >= 4.5 && closed <= 6.0, "slow client \(index): \(closed) s") }
    }
  }

  /// Sends the next byte of a request head to every open slow client once a second and
  /// notes when the server closes each one.
  static func dribble(
    _ clients: [ProbeSocket], until end: ContinuousClock.Instant, closedAfter: CloseTimes
  ) {
    let head = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n".utf8)
    var open = Set(clients.indices)
    var next = ContinuousClock.now
    var sent = 0
    while !open.isEmpty && ContinuousClock.now < end {
      if ContinuousClock.now >= next {
        for index in open { clients[index].send([head[sent % head.count]]) }
        sent += 1
        next += .seconds(1)
      }
      var entries = open.sorted().map {
        pollfd(fd: clients[$0].fd, events: Int16(POLLIN), revents: 0)
      }
      let wait = max(1, ProbeSocket.milliseconds(min(next, end) - .now))
      guard poll(&entries, nfds_t(entries.count), wait) > 0 else { continue }
      for (entry, index) in zip(entries, open.sorted()) where entry.revents != 0 {
        guard clients[index].isClosedNow() else { continue }
        open.remove(index)
        let after = seconds(ContinuousClock.now - clients[index].connectedAt)
        closedAfter.seconds.withLock { $0[index] = after }
      }
    }
  }

  static func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}

/// When the server closed each slow client, in seconds after its connect (nil: still open).
final class CloseTimes: Sendable {
  let seconds: Mutex<[Double?]>
  init(count: Int) { seconds = Mutex(Array(repeating: nil, count: count)) }
}
