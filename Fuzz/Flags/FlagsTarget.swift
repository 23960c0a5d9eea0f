@testable import Daemon
@testable import FlannelCore

/// flanneld's command line (`GoFlagParser` with `FlanneldFlags.specs`) on random argument
/// vectors and `FLANNELD_*` environments. Input: NUL-separated arguments, then after two NULs
/// NUL-separated `NAME=value` environment entries; a third of the arguments are turned into
/// real flag names so the parser gets past "not defined". Properties: every flag has a value
/// of its kind; a flag set on the command line appears there; the arguments left over are a
/// suffix of the input; writing the parsed values back as `-name=value` arguments parses to
/// the same values and sources; error texts render. Also: the daemon's dotted-quad check
/// (`OptionChecks.isIPv4DottedQuad`) and FlannelCore's `IPv4Address` agree on every text.
enum FlagsTarget: ParserTarget {
  static let name = "flags"
  static let requiredChecks = [
    "parsed", "refused", "re-rendered command line", "value from environment",
    "IPv4 checks agree",
  ]

  static let names = FlanneldFlags.specs.map(\.name)

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    let parts = raw.split(separator: "\0\0", maxSplits: 1, omittingEmptySubsequences: false)
    var arguments = parts[0].split(separator: "\0", omittingEmptySubsequences: false).map(
      String.init)
    if arguments == [""] { arguments = [] }
    // Real names for some arguments: "@3" becomes "-<name 3>", "@@3=x" "--<name 3>=x".
    arguments = arguments.map(expandName)
    var environment: [String: String] = [:]
    if parts.count > 1 {
      for entry in parts[1].split(separator: "\0") {
        let pair = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let key = expandEnvironmentName(String(pair[0]))
        environment[key] = pair.count > 1 ? String(pair[1]) : ""
      }
    }

    for argument in arguments {
      require(
        OptionChecks.isIPv4DottedQuad(argument) == (IPv4Address(argument) != nil),
        "the daemon's and FlannelCore's IPv4 checks disagree on \(argument.debugDescription)")
    }
    Checks.count("IPv4 checks agree")

    let flags: ParsedFlags
    do {
      flags = try GoFlagParser.parse(
        arguments, specs: FlanneldFlags.specs, environment: environment)
    } catch {
      _ = error.description
      Checks.count("refused")
      return
    }
    Checks.count("parsed")
    checkKinds(flags)
    let consumed = arguments.count - flags.remainingArguments.count
    require(
      consumed >= 0 && Array(arguments[consumed...]) == flags.remainingArguments,
      "remaining arguments \(flags.remainingArguments) are not a suffix of \(arguments)")
    for name in names where flags.source(of: name) == .commandLine {
      require(
        arguments[..<consumed].contains { $0.hasPrefix("-\(name)") || $0.hasPrefix("--\(name)") },
        "-\(name) set from the command line \(arguments) without appearing in it")
    }
    for name in names where flags.source(of: name) == .environment {
      let key = GoFlagParser.environmentKey(for: name)
      require(environment[key]?.isEmpty == false, "\(name) from an empty environment value")
      Checks.count("value from environment")
    }

    let rendered = render(flags) + ["--"] + flags.remainingArguments
    let again: ParsedFlags
    do {
      again = try GoFlagParser.parse(rendered, specs: FlanneldFlags.specs, environment: environment)
    } catch {
      fatalError("property failed: re-rendered command line \(rendered) refused: \(error)")
    }
    require(
      again.values == flags.values && again.sources == flags.sources
        && again.remainingArguments == flags.remainingArguments,
      "re-rendered command line \(rendered) parses differently from \(arguments)")
    Checks.count("re-rendered command line")
  }

  static func expandName(_ argument: String) -> String {
    for (marker, dashes) in [("@@", "--"), ("@", "-")] where argument.hasPrefix(marker) {
      let rest = argument.dropFirst(marker.count)
      let digits = rest.prefix(while: \.isASCII).prefix(while: \.isNumber)
      guard let index = UInt8(digits.prefix(2)) else { return argument }
      return dashes + names[Int(index) % names.count] + rest.dropFirst(digits.count)
    }
    return argument
  }

  static func expandEnvironmentName(_ key: String) -> String {
    guard key.hasPrefix("@"), let index = UInt8(key.dropFirst().prefix(2)) else { return key }
    return GoFlagParser.environmentKey(for: names[Int(index) % names.count])
  }

  /// Every flag's value has its kind's shape (the typed accessors trap otherwise).
  static func checkKinds(_ flags: ParsedFlags) {
    for spec in FlanneldFlags.specs {
      switch spec.kind {
      case .bool: _ = flags.bool(spec.name)
      case .string: _ = flags.string(spec.name)
      case .int, .verbosity: _ = flags.int(spec.name)
      case .stringList: _ = flags.strings(spec.name)
      }
    }
  }

  /// The command-line flags as `-name=value` arguments (a list flag once per element).
  static func render(_ flags: ParsedFlags) -> [String] {
    var out: [String] = []
    for name in names where flags.source(of: name) == .commandLine {
      switch flags.values[name]! {
      case .bool(let value): out.append("-\(name)=\(value)")
      case .int(let value): out.append("-\(name)=\(value)")
      case .string(let value): out.append("-\(name)=\(value)")
      case .strings(let values): out += values.map { "-\(name)=\($0)" }
      }
    }
    return out
  }
}
