import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

public struct HealthServerError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// The `-healthz-ip:-healthz-port` listener: `/healthz`, `/readyz` and `/metrics`.
///
/// A blocking socket served by one thread of its own (never the Swift concurrency pool);
/// GET and HEAD only, one request per connection, 2 s socket timeouts so a stuck client
/// cannot hold the probe endpoints for long.
public final class HealthServer: Sendable {
  /// "ip:port" as bound (port resolved when 0 was asked for).
  public let address: String
  public let port: Int
  private let listener: Int32
  private let routes: HealthRoutes
  private let readyFlag = Atomic<Bool>(false)
  private let stopping = Atomic<Bool>(false)
  private let started = Atomic<Bool>(false)
  private let finished = DispatchSemaphore(value: 0)

  /// Binds and listens at once, so a busy port fails startup rather than a later thread.
  /// `metrics` renders the `/metrics` body (e.g. `registry.render`); nil leaves it 404.
  public init(ip: String, port: Int, metrics: (@Sendable () -> String)? = nil)
    throws(HealthServerError)
  {
    let host = ip.isEmpty ? "0.0.0.0" : ip
    var v4 = sockaddr_in()
    var v6 = sockaddr_in6()
    let family: Int32
    if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
      family = AF_INET
      v4.sin_family = sa_family_t(AF_INET)
      v4.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
    } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
      family = AF_INET6
      v6.sin6_family = sa_family_t(AF_INET6)
      v6.sin6_port = UInt16(truncatingIfNeeded: port).bigEndian
    } else {
      throw HealthServerError("Start healthz server error. invalid -healthz-ip \(ip)")
    }
    let shown = family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw HealthServerError("socket: \(Self.lastError())") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let bound =
      family == AF_INET
      ? withUnsafePointer(to: &v4) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      : withUnsafePointer(to: &v6) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
      }
    guard bound == 0, listen(fd, 16) == 0 else {
      let message = Self.lastError()
      close(fd)
      throw HealthServerError("Start healthz server error. listen tcp \(shown): \(message)")
    }
    var actual = sockaddr_in6()
    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    _ = withUnsafeMutablePointer(to: &actual) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    // sin_port and sin6_port sit at the same offset.
    self.port = Int(UInt16(bigEndian: actual.sin6_port))
    self.address = family == AF_INET6 ? "[\(host)]:\(self.port)" : "\(host):\(self.port)"
    self.listener = fd
    self.routes = HealthRoutes(metrics: metrics)
  }

  /// `/readyz` answers 200 from now on (stock: once the rules are in place and subnet.env is
  /// written).
  public func markReady(_ ready: Bool = true) {
    readyFlag.store(ready, ordering: .releasing)
  }

  public var isReady: Bool { readyFlag.load(ordering: .acquiring) }

  /// Starts serving on a thread of its own.
  public func start() {
    guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
    let thread = Thread { [self] in
      serve()
      finished.signal()
    }
    thread.name = "flanneld-healthz"
    thread.start()
  }

  /// Stops accepting, waits for the serving thread (if started), closes the socket.
  public func stop() {
    guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
    shutdown(listener, Int32(SHUT_RDWR))
    if started.load(ordering: .acquiring) { finished.wait() }
    close(listener)
  }

  private func serve() {
    while !stopping.load(ordering: .acquiring) {
      let connection = accept(listener, nil, nil)
      if connection < 0 {
        if errno == EINTR || errno == ECONNABORTED { continue }
        return
      }
      handle(connection)
      close(connection)
    }
  }

  private func handle(_ fd: Int32) {
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var head: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 2048)
    while head.count < 8192 && !Self.hasBlankLine(head) {
      let count = read(fd, &chunk, chunk.count)
      if count <= 0 { break }
      head += chunk[..<count]
    }
    let response: HTTPExchange.Response
    var includeBody = true
    if let request = HTTPExchange.parse(head: head) {
      response = routes.respond(to: request, ready: isReady)
      includeBody = request.method != "HEAD"
    } else {
      response = .init(status: 400, body: "400 Bad Request")
    }
    let bytes = response.serialized(includeBody: includeBody)
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes {
        send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      if n <= 0 { return }
      sent += n
    }
  }

  static func hasBlankLine(_ bytes: [UInt8]) -> Bool {
    let crlf: [UInt8] = [13, 10, 13, 10]
    guard bytes.count >= 4 else { return false }
    for i in 0...(bytes.count - 4) where bytes[i..<i + 4].elementsEqual(crlf) { return true }
    return bytes.count >= 2 && bytes.suffix(2).elementsEqual([10, 10])
  }

  static func lastError() -> String { String(cString: strerror(errno)) }
}
