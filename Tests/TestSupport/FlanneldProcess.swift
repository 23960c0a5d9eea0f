import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The built `flanneld` binary run as a child process, its stderr kept in a file that
/// tests poll. Stopped by PID (the one we started) on `terminate()` or deinit.
public final class FlanneldProcess: @unchecked Sendable {
  public let process = Process()
  public let logFile: URL

  /// `FLANNELD_BINARY`, else the debug build next to these sources.
  public static var binary: String {
    if let path = ProcessInfo.processInfo.environment["FLANNELD_BINARY"] { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/flanneld").path
  }

  public init(_ arguments: [String], environment: [String: String] = [:]) throws {
    logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
      "flanneld-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: logFile)
    process.executableURL = URL(fileURLWithPath: Self.binary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FLANNELD_") }
    env.merge(environment) { $1 }
    process.environment = env
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    try? FileManager.default.removeItem(at: logFile)
  }

  public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

  /// Polls the log every 20 ms until it contains `text`.
  public func waitForLog(_ text: String, timeout: Duration = .seconds(10)) async -> Bool {
    await poll(timeout: timeout) { self.log.contains(text) }
  }

  /// Waits for the process to exit by itself; nil if it is still running after `timeout`.
  public func waitForExit(timeout: Duration = .seconds(10)) async -> Int32? {
    guard await poll(timeout: timeout, { !self.process.isRunning }) else { return nil }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// SIGTERM (or another signal) and the exit status.
  public func terminate(signal number: Int32 = SIGTERM, timeout: Duration = .seconds(10)) async
    -> Int32?
  {
    if process.isRunning { kill(process.processIdentifier, number) }
    return await waitForExit(timeout: timeout)
  }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
public func poll(timeout: Duration, _ condition: () -> Bool) async -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return condition()
}
