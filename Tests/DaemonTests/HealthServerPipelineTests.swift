import Daemon
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A client that pipelines requests and never reads the answers: the listener stops reading
/// it once its answers pile up (they would grow without bound), its request deadline then
/// closes it, and probes from others are answered throughout.
@Suite struct HealthServerPipelineTests {
  @Test func aClientThatNeverReadsIsCutOffAndProbesStillAnswer() throws {
    let server = try HealthServer(ip: "127.0.0.1", port: 0)
    server.start()
    defer { server.stop() }
    let flooder = try #require(ProbeSocket.connect(port: server.port, timeout: .seconds(1)))
    defer { flooder.close() }
    let request = Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
    let chunk = Array([[UInt8]](repeating: request, count: 200).joined())
    // Room for whole chunks: a send never stops inside one (no partial request is left to
    // wait for its deadline).
    var room: Int32 = 1 << 20
    setsockopt(flooder.fd, SOL_SOCKET, SO_SNDBUF, &room, socklen_t(MemoryLayout<Int32>.size))
    let floodEnd = ContinuousClock.now + .seconds(3)
    var probesFailed = 0
    var probes = 0
    while ContinuousClock.now < floodEnd {
      // As much as the socket takes right now, then one probe on a fresh connection.
      // Whole chunks only (the stream ends on a request boundary: no partial request
      // left waiting for its deadline).
      for _ in 0..<50 {
        var outstanding = 0
        guard ioctl(flooder.fd, UInt(TIOCOUTQ), &outstanding) == 0, outstanding < 262_144 else {
          break
        }
        var offset = 0
        while offset < chunk.count {
          let sent = chunk[offset...].withUnsafeBytes {
            send(flooder.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
          }
          guard sent > 0 else { break }
          offset += sent
        }
      }
      let started = ContinuousClock.now
      probes += 1
      guard let probe = ProbeSocket.connect(port: server.port, timeout: .seconds(1)) else {
        probesFailed += 1
        continue
      }
      _ = probe.send("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
      if probe.readReply(by: started + .seconds(1))?.status != 200 { probesFailed += 1 }
      probe.close()
    }
    #expect(probes > 5)
    #expect(probesFailed == 0)
    // Still never reading: once its answers pile up the listener answers no more, and the
    // request deadline (5 s after its last answered request) closes the connection. Without
    // the bound it answers every request it read, buffering the answers, and the connection
    // idles on in keep-alive. Seen without reading: a hang-up (the unread bytes make the
    // close a reset).
    var entry = pollfd(fd: flooder.fd, events: 0, revents: 0)
    let hungUp = poll(&entry, 1, 9_000) == 1 && entry.revents & Int16(POLLHUP | POLLERR) != 0
    #expect(hungUp)
  }
}
