import FlannelCore
import Foundation
import Logging

/// Writes each log record as a `{"log":"<level>: <message>"}` line on stdout, between the
/// answers, so that tests can check what the backend said.
struct ProbeLogHandler: LogHandler {
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    emitLine(.object([JSONMember("log", .string("\(event.level): \(event.message)"))]))
  }
}

/// One unbuffered line, so a test reading the pipe sees it at once.
func emitLine(_ value: JSONValue) {
  FileHandle.standardOutput.write(Data((value.serialized() + "\n").utf8))
}
