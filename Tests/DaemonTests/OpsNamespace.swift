import Foundation
import TestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// A network namespace of one test: created with `ip netns add`, deleted on deinit (also
/// when the test fails). Commands run in it through `ip netns exec`, never setns.
final class OpsNamespace: @unchecked Sendable {
  let name: String

  init(_ tag: String) throws {
    name = "ops-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
    try Shell.run("/usr/sbin/ip", ["netns", "add", name])
    try run("ip", ["link", "set", "lo", "up"])
  }

  deinit { _ = try? Shell.run("/usr/sbin/ip", ["netns", "delete", name]) }

  /// Runs a program inside the namespace; its stdout, or a thrown error with its stderr.
  @discardableResult
  func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil)
    throws -> String
  {
    try Shell.run(
      "/usr/sbin/ip", ["netns", "exec", name, program] + arguments, environment: environment)
  }

  /// `ip` commands, one per line.
  func ip(_ script: String) throws {
    for line in script.split(separator: "\n") where !line.isEmpty {
      try run("ip", line.split(separator: " ").map(String.init))
    }
  }
}

/// The daemon-probe executable (built with the tests), next to these sources' build.
enum DaemonProbe {
  static var binary: String {
    if let path = ProcessInfo.processInfo.environment["DAEMON_PROBE_BINARY"] { return path }
    if let path = ProcessInfo.processInfo.environment["FLANNELD_BINARY"] {
      return URL(fileURLWithPath: path).deletingLastPathComponent()
        .appendingPathComponent("daemon-probe").path
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/daemon-probe").path
  }
}

/// A long-running daemon-probe inside a namespace; output (stdout and stderr) in a file
/// the test polls. Stopped by its PID (`ip netns exec` execs the probe in place).
final class ProbeProcess: @unchecked Sendable {
  let process = Process()
  let logFile: URL

  init(in namespace: OpsNamespace, _ arguments: [String]) throws {
    logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
      "daemon-probe-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: logFile)
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    process.arguments = ["netns", "exec", namespace.name, DaemonProbe.binary] + arguments
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
  }

  deinit {
    stop()
    try? FileManager.default.removeItem(at: logFile)
  }

  var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

  func stop() {
    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    process.waitUntilExit()
  }

  func waitForLog(_ text: String, timeout: Duration = .seconds(10)) async -> Bool {
    await pollUntil(timeout: timeout) { self.log.contains(text) }
  }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
func pollUntil(timeout: Duration, _ condition: () throws -> Bool) async rethrows -> Bool {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  while clock.now < deadline {
    if try condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return try condition()
}
