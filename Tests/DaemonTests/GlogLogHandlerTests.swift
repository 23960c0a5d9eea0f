import Logging
import Synchronization
import Testing

@testable import Daemon

#if canImport(Glibc)
  import Glibc
#endif

/// Collects lines instead of writing them to stderr.
final class CollectingWriter: LogLineWriter {
  private let collected = Mutex<[String]>([])
  var lines: [String] { collected.withLock { $0 } }
  func write(line: String) { collected.withLock { $0.append(line) } }
}

private let fixedTime = GlogLine.Timestamp(
  month: 11, day: 27, hour: 3, minute: 21, second: 20, microsecond: 123_456)

private func logger(_ writer: CollectingWriter, level: Logger.Level = .info) -> Logger {
  Logger(label: "main.go") { label in
    GlogLogHandler(label: label, logLevel: level, writer: writer, clock: { fixedTime }, pid: 12345)
  }
}

@Test func lineHasKlogHeader() {
  let writer = CollectingWriter()
  logger(writer).info("Determining IP address of default interface")
  #expect(
    writer.lines == [
      "I1127 03:21:20.123456   12345 main.go] Determining IP address of default interface\n"
    ])
}

@Test(arguments: [
  (Logger.Level.info, "I"), (.notice, "I"), (.warning, "W"), (.error, "E"), (.critical, "F"),
  (.debug, "I"), (.trace, "I"),
])
func levelLetter(_ level: Logger.Level, _ letter: String) {
  let writer = CollectingWriter()
  logger(writer, level: .trace).log(level: level, "m")
  #expect(writer.lines.count == 1)
  #expect(writer.lines.first?.hasPrefix(letter + "1127 ") == true)
}

@Test func metadataIsSortedAndQuotedWhenNeeded() {
  let writer = CollectingWriter()
  var log = logger(writer)
  log[metadataKey: "subnet"] = "10.1.15.0/24"
  log.warning("Lease renewed", metadata: ["expires": "2026-11-28 03:21", "attempt": "2"])
  #expect(
    writer.lines == [
      "W1127 03:21:20.123456   12345 main.go] Lease renewed attempt=2 "
        + "expires=\"2026-11-28 03:21\" subnet=10.1.15.0/24\n"
    ])
}

@Test func smallFieldsArePadded() {
  let time = GlogLine.Timestamp(month: 1, day: 2, hour: 3, minute: 4, second: 5, microsecond: 6)
  let line = GlogLine.format(
    level: .error, time: time, pid: 7, label: "x", message: "m", metadata: [])
  #expect(line == "E0102 03:04:05.000006       7 x] m\n")
}

@Test func levelFiltering() {
  let writer = CollectingWriter()
  let log = logger(writer, level: FlannelLogging.logLevel(forVerbosity: 0))
  log.debug("hidden")
  log.info("shown")
  #expect(writer.lines.count == 1)
  #expect(writer.lines.first?.hasSuffix("] shown\n") == true)
}

@Test(arguments: [
  (-1, Logger.Level.info), (0, .info), (1, .debug), (2, .trace), (4, .trace),
])
func verbosityMapping(_ verbosity: Int, _ level: Logger.Level) {
  #expect(FlannelLogging.logLevel(forVerbosity: verbosity) == level)
}

@Test func concurrentLinesStayWhole() async {
  let writer = CollectingWriter()
  let log = logger(writer)
  await withTaskGroup(of: Void.self) { group in
    for task in 0..<8 {
      group.addTask {
        for index in 0..<50 { log.info("task \(task) line \(index)") }
      }
    }
  }
  #expect(writer.lines.count == 400)
  #expect(writer.lines.allSatisfy { $0.hasPrefix("I1127 ") && $0.hasSuffix("\n") })
}

@Test func localClockIsPlausible() {
  let now = GlogLogHandler.localNow()
  #expect((1...12).contains(now.month) && (1...31).contains(now.day))
  #expect((0...23).contains(now.hour) && (0...59).contains(now.minute))
  #expect((0...60).contains(now.second) && (0..<1_000_000).contains(now.microsecond))
}

@Test func bootstrapRunsOnce() {
  // The first call in this process installs the handler; later calls must not trap.
  _ = FlannelLogging.bootstrap(verbosity: 0)
  #expect(FlannelLogging.bootstrap(verbosity: 2) == false)
}

@Test func stderrWriterWritesWholeLinesToItsDescriptor() throws {
  var fds: [Int32] = [0, 0]
  #expect(pipe(&fds) == 0)
  defer { close(fds[0]) }
  let writer = StderrLineWriter(fileDescriptor: fds[1])
  writer.write(line: "I1127 03:21:20.123456   12345 main.go] one\n")
  writer.write(line: "E1127 03:21:20.123456   12345 main.go] two\n")
  close(fds[1])
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 256)
  while true {
    let count = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
    if count <= 0 { break }
    bytes += chunk[0..<count]
  }
  #expect(
    String(decoding: bytes, as: UTF8.self)
      == "I1127 03:21:20.123456   12345 main.go] one\nE1127 03:21:20.123456   12345 main.go] two\n")
}
