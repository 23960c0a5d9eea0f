import Foundation

/// A child process whose standard output is read line by line while it runs, for probes
/// that report events as they happen. Killed by PID in deinit if still running.
public final class LineProcess {
  private let process = Process()
  private let output = Pipe()
  private var pending = Data()

  public init(_ executable: String, _ arguments: [String], input: String) throws {
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = output
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
  }

  deinit { terminate() }

  /// Kills the child (by its PID) and reaps it.
  public func terminate() {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }

  /// Reads lines until one satisfies `predicate`; nil if output ends first.
  public func line(where predicate: (String) -> Bool) throws -> String? {
    while let line = try nextLine() {
      if predicate(line) { return line }
    }
    return nil
  }

  /// Blocks until a full line arrives; nil at end of output.
  public func nextLine() throws -> String? {
    while true {
      if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: pending[..<newline], as: UTF8.self)
        pending = Data(pending[(newline + 1)...])
        return line
      }
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { return nil }
      pending.append(chunk)
    }
  }
}
