import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A real etcd (Debian's `etcd-server`) on loopback, for one test or suite.
///
/// It listens on two free ports, keeps its data in a fresh temporary directory, serves both
/// the v2 keys API and the v3 JSON gateway, and is stopped (by PID, the one we started) and
/// wiped on `stop()` or deinit. `stop(keepData:)` plus `start()` restarts it on the same
/// ports and data, for outage tests.
public final class EtcdServer: @unchecked Sendable {
  public private(set) var clientPort: Int
  public private(set) var peerPort: Int
  public let dataDir: URL
  /// "http", or "https" for a TLS etcd (its cert flags go in `extraArguments`).
  public let scheme: String
  public var endpoint: String { "\(scheme)://127.0.0.1:\(clientPort)" }
  private var process: Process?
  private let lock = NSLock()
  private let extraArguments: [String]
  /// Extra `curl` arguments for the health check (e.g. `--cacert`, `--cert`, `--key`).
  private let healthCheckArguments: [String]

  public init(
    extraArguments: [String] = [], scheme: String = "http", healthCheckArguments: [String] = []
  ) throws {
    clientPort = try FreePort.pick()
    peerPort = try FreePort.pick()
    dataDir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "flannel-etcd-\(UUID().uuidString)")
    self.extraArguments = extraArguments
    self.scheme = scheme
    self.healthCheckArguments = healthCheckArguments
    // Another test may bind a port between our pick and etcd's bind, and an etcd that never
    // turns healthy (seen once in CI among dozens starting at once) is retried from scratch:
    // fresh ports and data, so one stuck start is not a failed test.
    var attempt = 0
    while true {
      do {
        try EtcdServer.startSlots.withSlot { try start() }
        return
      } catch let error as TestSupportError
        where (error.description.contains("address already in use") && attempt < 5)
        || (error.description.contains("did not become healthy") && attempt < 1)
      {
        attempt += 1
        FileHandle.standardError.write(
          Data("EtcdServer: retrying with fresh ports: \(error)\n".utf8))
        stop()
        clientPort = try FreePort.pick()
        peerPort = try FreePort.pick()
      }
    }
  }

  deinit { stop() }

  /// Starts etcd and waits (polling /health) until it answers.
  public func start() throws {
    lock.lock()
    defer { lock.unlock() }
    guard process == nil else { return }
    try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: EtcdServer.binary)
    let client = endpoint
    let peer = "http://127.0.0.1:\(peerPort)"
    p.arguments =
      [
        "--name", "test", "--data-dir", dataDir.appendingPathComponent("data").path,
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "test=\(peer)", "--enable-v2=true", "--log-level", "error",
      ] + extraArguments
    let log = dataDir.appendingPathComponent("etcd.log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    handle.seekToEndOfFile()
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    process = p
    let deadline = Date().addingTimeInterval(EtcdServer.startupDeadline)
    var pause: useconds_t = 20_000
    while Date() < deadline {
      if !p.isRunning {
        throw TestSupportError("etcd exited during startup: \(logTail(log))")
      }
      if healthy() { return }
      usleep(pause)
      pause = min(pause * 3 / 2, 200_000)
    }
    throw TestSupportError(
      "etcd on port \(clientPort) did not become healthy within \(Int(EtcdServer.startupDeadline)) s; "
        + "its log ends: \(logTail(log))")
  }

  private func logTail(_ log: URL) -> String {
    String(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(2000))
  }

  /// Stops the etcd we started (SIGTERM, then SIGKILL) and waits for it to exit.
  public func stop(keepData: Bool = false) {
    lock.lock()
    let p = process
    process = nil
    lock.unlock()
    if let p, p.isRunning {
      kill(p.processIdentifier, SIGTERM)
      let deadline = Date().addingTimeInterval(5)
      while p.isRunning && Date() < deadline { usleep(20_000) }
      if p.isRunning { kill(p.processIdentifier, SIGKILL) }
      p.waitUntilExit()
    }
    if !keepData { try? FileManager.default.removeItem(at: dataDir) }
  }

  /// Runs `etcdctl` against this server. `api` is "3" or "2".
  @discardableResult
  public func etcdctl(_ args: [String], api: String = "3") throws -> String {
    var env = ProcessInfo.processInfo.environment
    env["ETCDCTL_API"] = api
    let flag = api == "2" ? "--endpoints=\(endpoint)" : "--endpoints=\(endpoint)"
    return try Shell.run("/usr/bin/etcdctl", [flag] + args, environment: env)
  }

  static var binary: String {
    ProcessInfo.processInfo.environment["ETCD_BINARY"] ?? "/usr/bin/etcd"
  }

  /// How long one start may take before it counts as stuck.
  static let startupDeadline: TimeInterval = 45

  /// At most this many etcds start at once in one test process: each start creates and fsyncs
  /// its WAL, and dozens at once on two cores slow every one of them past any deadline.
  static let startSlots = StartSlots(count: 4)

  /// Plain-HTTP etcds are probed in-process (a connect and one request); spawning curl every
  /// few milliseconds for each of dozens of starting etcds costs more CPU than etcd itself.
  func healthy() -> Bool {
    if scheme == "http" && healthCheckArguments.isEmpty {
      return HealthProbe.isHealthy(port: clientPort)
    }
    return
      (try? Shell.run(
        "/usr/bin/curl", ["-sf", "-m", "1"] + healthCheckArguments + ["\(endpoint)/health"])) != nil
  }
}

/// A counting semaphore used from plain threads (never from the cooperative pool).
final class StartSlots: Sendable {
  private let semaphore: DispatchSemaphore
  init(count: Int) { semaphore = DispatchSemaphore(value: count) }
  func withSlot<T>(_ body: () throws -> T) rethrows -> T {
    semaphore.wait()
    defer { semaphore.signal() }
    return try body()
  }
}

public struct TestSupportError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Picks a free TCP port on loopback, below the kernel's ephemeral range (32768+) so that
/// outgoing connections of other tests cannot take it before etcd binds it.
public enum FreePort {
  public static func pick() throws -> Int {
    for _ in 0..<200 {
      let port = Int.random(in: 20_000..<32_000)
      if canBind(port) { return port }
    }
    return try pickEphemeral()
  }

  static func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    } == 0
  }

  /// Binds port 0 and reads the one the kernel chose.
  static func pickEphemeral() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0 else { throw TestSupportError("bind: errno \(errno)") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let got = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    guard got == 0 else { throw TestSupportError("getsockname: errno \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
  }
}
