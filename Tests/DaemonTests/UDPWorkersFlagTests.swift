import Testing

@testable import Daemon

/// `-udp-workers` (ours): 0 = automatic by default, FLANNELD_UDP_WORKERS as fallback, 0…64.
@Suite struct UDPWorkersFlagTests {
  struct Row: Sendable, CustomTestStringConvertible {
    let arguments: [String]
    var environment: [String: String] = [:]
    let workers: Int
    let source: FlagSource
    var testDescription: String {
      (arguments + environment.map { "\($0)=\($1)" }).joined(separator: " ")
    }
  }

  @Test(arguments: [
    Row(arguments: [], workers: 0, source: .default),
    Row(arguments: ["-udp-workers=1"], workers: 1, source: .commandLine),
    Row(arguments: ["--udp-workers", "4"], workers: 4, source: .commandLine),
    Row(arguments: ["-udp-workers=64"], workers: 64, source: .commandLine),
    Row(arguments: ["-udp-workers=0"], workers: 0, source: .commandLine),
    Row(
      arguments: [], environment: ["FLANNELD_UDP_WORKERS": "2"], workers: 2, source: .environment),
    Row(
      arguments: ["-udp-workers=3"], environment: ["FLANNELD_UDP_WORKERS": "2"], workers: 3,
      source: .commandLine),
  ])
  func accepted(_ row: Row) throws {
    let options = try FlanneldOptions.parse(arguments: row.arguments, environment: row.environment)
    #expect(options.udp.workers == row.workers)
    #expect(options.sources["udp-workers"] == row.source)
  }

  static func message(_ value: Int) -> String {
    "invalid value \(value) for -udp-workers: use 1 to 64 forwarding threads, or 0 for one per "
      + "two online CPUs (at most 4)"
  }

  @Test(
    arguments: [
      (["-udp-workers=-1"], [:], -1),
      (["-udp-workers=65"], [:], 65),
      (["-udp-workers", "1000"], [:], 1000),
      ([], ["FLANNELD_UDP_WORKERS": "-3"], -3),
      ([], ["FLANNELD_UDP_WORKERS": "65"], 65),
    ] as [([String], [String: String], Int)])
  func outOfRange(arguments: [String], environment: [String: String], value: Int) {
    #expect(throws: OptionsError.invalid(flag: "udp-workers", message: Self.message(value))) {
      try FlanneldOptions.parse(arguments: arguments, environment: environment)
    }
  }

  /// Not a number on the command line: the flag parser's error names the flag.
  @Test func notANumberOnTheCommandLine() {
    #expect(throws: OptionsError.self) {
      try FlanneldOptions.parse(arguments: ["-udp-workers=two"], environment: [:])
    }
  }

  /// Not a number in the environment: refused like every FLANNELD_* value (default kept,
  /// error reported), as stock does.
  @Test func notANumberInTheEnvironment() throws {
    let options = try FlanneldOptions.parse(
      arguments: [], environment: ["FLANNELD_UDP_WORKERS": "many"])
    #expect(options.udp.workers == 0)
    #expect(options.environmentErrors.count == 1)
    #expect(options.environmentErrors.first?.contains("FLANNELD_UDP_WORKERS") == true)
  }
}
