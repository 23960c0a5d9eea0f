import Etcd
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A fresh etcd plus a v3 and v2 client for it.
struct EtcdFixture {
  let etcd: EtcdServer
  let v3: EtcdV3Client
  let v2: EtcdV2Client

  static func start() async throws -> EtcdFixture {
    let etcd = try await offPool { try EtcdServer() }
    let config = EtcdClientConfig(endpoints: [etcd.endpoint])
    return EtcdFixture(
      etcd: etcd, v3: try EtcdV3Client(config: config), v2: try EtcdV2Client(config: config))
  }
}

/// A loopback TCP port held by a bound socket: with `listening` connects succeed into the
/// backlog but nothing ever answers (a hung etcd); without, connects are refused (a dead etcd).
/// Holding the port keeps parallel tests' etcds from taking it.
final class TestPort {
  let fd: Int32
  let port: Int

  init(listening: Bool) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0, !listening || listen(fd, 64) == 0 else {
      throw TestSupportError("bind/listen: errno \(errno)")
    }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    self.fd = fd
    port = Int(UInt16(bigEndian: addr.sin_port))
  }

  var endpoint: String { "http://127.0.0.1:\(port)" }

  deinit { close(fd) }
}

/// Fails the test with `message` unless `body` finishes within `limit`.
func elapsed(_ body: () async throws -> Void) async rethrows -> Duration {
  let clock = ContinuousClock()
  let start = clock.now
  try await body()
  return clock.now - start
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool)
  async rethrows
  -> Bool
{
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return try await condition()
}
