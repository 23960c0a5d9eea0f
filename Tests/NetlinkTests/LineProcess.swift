import Foundation

/// A child process whose standard output is read line by line while it runs, for probes
/// that report events as they happen. Killed by PID in deinit if still running.
final class LineProcess {
  private let process = Process()
  private let output = Pipe()
  private var pending = Data()

  init(_ executable: String, _ arguments: [String], input: String) throws {
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = output
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  /// Blocks until a full line arrives; nil at end of output.
  func nextLine() throws -> String? {
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
