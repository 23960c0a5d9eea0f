import Foundation
import Synchronization
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

public struct HealthServerError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// The `-healthz-ip:-healthz-port` listener: `/healthz`, `/readyz` and `/metrics`.
///
/// A non-blocking socket served by one poll(2) loop on a thread of its own, never the Swift
/// concurrency pool (HealthListenerLoop). Connections are served concurrently within
/// `HealthServerLimits` — a connection cap that closes the longest-idle one to let a new one
/// in, a 5 s deadline and an 8 KiB bound per request, HTTP/1.1 keep-alive for scrapers — so
/// idle or dribbling clients cannot starve a liveness probe.
public final class HealthServer: Sendable {
  /// "ip:port" as bound (port resolved when 0 was asked for).
  public let address: String
  public let port: Int
  public let limits: HealthServerLimits
  /// The listening socket; nil once `stop()` closed it.
  private let listener: Mutex<OwnedDescriptor?>
  /// Its number, for the loop (which ends before `stop()` closes it).
  private let listenerFD: Int32
  private let routes: HealthRoutes
  private let readiness = HealthReadiness()
  private let mailbox: HealthLoopMailbox
  private let started = Atomic<Bool>(false)
  private let stopped = Atomic<Bool>(false)
  private let finished = DispatchSemaphore(value: 0)

  /// Binds and listens at once, so a busy port fails startup rather than a later thread;
  /// connections wait in the backlog until `start()`.
  /// `metrics` renders the `/metrics` body (e.g. `registry.render`); nil leaves it 404.
  /// `debugPage` answers paths under /debug/ (nil from it: 404).
  public init(
    ip: String, port: Int, metrics: (@Sendable () -> String)? = nil,
    debugPage: (@Sendable (String) -> String?)? = nil, limits: HealthServerLimits = .init()
  ) throws(HealthServerError) {
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
    guard (0...65535).contains(port) else {
      throw HealthServerError("Start healthz server error. listen tcp \(shown): invalid port")
    }
    let created = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard created >= 0 else { throw HealthServerError("socket: \(Self.lastError())") }
    // Closed on every early exit below, and by `stop()` (or the server's end) after that.
    let owned = OwnedDescriptor(created)
    let fd = owned.rawValue
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
    guard bound == 0, listen(fd, Int32(clamping: limits.backlog)) == 0 else {
      let message = Self.lastError()
      throw HealthServerError("Start healthz server error. listen tcp \(shown): \(message)")
    }
    // Accepts until EAGAIN in the loop.
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    mailbox = try HealthLoopMailbox()
    var actual = sockaddr_in6()
    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    _ = withUnsafeMutablePointer(to: &actual) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    // sin_port and sin6_port sit at the same offset.
    self.port = Int(UInt16(bigEndian: actual.sin6_port))
    self.address = family == AF_INET6 ? "[\(host)]:\(self.port)" : "\(host):\(self.port)"
    self.listenerFD = fd
    self.listener = Mutex(owned)
    self.limits = limits
    self.routes = HealthRoutes(metrics: metrics, debugPage: debugPage)
  }

  /// `/readyz` answers 200 from now on (stock: once the rules are in place and subnet.env is
  /// written).
  public func markReady(_ ready: Bool = true) { readiness.mark(ready) }

  public var isReady: Bool { readiness.isReady }

  /// Starts serving on a thread of its own.
  public func start() {
    guard !stopped.load(ordering: .acquiring),
      !started.exchange(true, ordering: .acquiringAndReleasing)
    else { return }
    let loop = HealthListenerLoop.Parts(
      listener: listenerFD, limits: limits, routes: routes, readiness: readiness,
      mailbox: mailbox)
    let thread = Thread { [finished] in
      HealthListenerLoop(loop).run()
      finished.signal()
    }
    thread.name = "flanneld-healthz"
    thread.start()
  }

  /// Stops the loop (closing every connection), waits for it, closes the socket: the port is
  /// free when it returns.
  public func stop() {
    guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
    mailbox.requestStop()
    if started.load(ordering: .acquiring) { finished.wait() }
    mailbox.close()
    listener.withLock { $0 = nil }
  }

  static func lastError() -> String { String(cString: strerror(errno)) }
}
