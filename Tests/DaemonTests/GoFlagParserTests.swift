import Testing

@testable import Daemon

/// The flanneld flag table through the generic parser, one row per argument form an
/// operator's unit file may contain.
struct ArgumentFormCase: CustomTestStringConvertible, Sendable {
  let arguments: [String]
  let flag: String
  let expected: FlagValue
  let remaining: [String]
  /// False when parsing stopped before the flag, so it keeps its default.
  var setOnCommandLine = true
  var testDescription: String { arguments.joined(separator: " ") }
}

let argumentForms: [ArgumentFormCase] = [
  .init(
    arguments: ["-etcd-endpoints=http://a:2379"], flag: "etcd-endpoints",
    expected: .string("http://a:2379"), remaining: []),
  .init(
    arguments: ["--etcd-endpoints", "http://a:2379"], flag: "etcd-endpoints",
    expected: .string("http://a:2379"), remaining: []),
  .init(
    arguments: ["-etcd-endpoints", "http://a:2379"], flag: "etcd-endpoints",
    expected: .string("http://a:2379"), remaining: []),
  .init(
    arguments: ["--etcd-endpoints=http://a:2379"], flag: "etcd-endpoints",
    expected: .string("http://a:2379"), remaining: []),
  .init(arguments: ["-ip-masq"], flag: "ip-masq", expected: .bool(true), remaining: []),
  .init(arguments: ["--ip-masq"], flag: "ip-masq", expected: .bool(true), remaining: []),
  .init(arguments: ["-ip-masq=false"], flag: "ip-masq", expected: .bool(false), remaining: []),
  .init(arguments: ["-ip-masq=T"], flag: "ip-masq", expected: .bool(true), remaining: []),
  .init(arguments: ["-ip-masq=0"], flag: "ip-masq", expected: .bool(false), remaining: []),
  .init(
    arguments: ["-iptables-forward-rules=False"], flag: "iptables-forward-rules",
    expected: .bool(false), remaining: []),
  // A bool never takes the next argument: "false" is positional and stops parsing.
  .init(
    arguments: ["-ip-masq", "false", "-v=3"], flag: "ip-masq", expected: .bool(true),
    remaining: ["false", "-v=3"]),
  .init(
    arguments: ["-iface", "eth0", "-iface", "eth1"], flag: "iface",
    expected: .strings(["eth0", "eth1"]), remaining: []),
  .init(
    arguments: ["-iface=eth0", "--iface", "10.0.0.1", "-iface-regex", "^en"], flag: "iface",
    expected: .strings(["eth0", "10.0.0.1"]), remaining: []),
  // A non-bool flag takes the next argument even when it looks like a flag.
  .init(
    arguments: ["-etcd-prefix", "-ip-masq"], flag: "etcd-prefix", expected: .string("-ip-masq"),
    remaining: []),
  .init(
    arguments: ["-etcd-prefix="], flag: "etcd-prefix", expected: .string(""), remaining: []),
  .init(
    arguments: ["-etcd-prefix=a=b"], flag: "etcd-prefix", expected: .string("a=b"),
    remaining: []),
  // The last occurrence of a scalar flag wins.
  .init(
    arguments: ["-subnet-lease-renew-margin=30", "-subnet-lease-renew-margin", "45"],
    flag: "subnet-lease-renew-margin", expected: .int(45), remaining: []),
  .init(
    arguments: ["-subnet-lease-renew-margin=0x1f"], flag: "subnet-lease-renew-margin",
    expected: .int(31), remaining: []),
  .init(
    arguments: ["-subnet-lease-renew-margin=010"], flag: "subnet-lease-renew-margin",
    expected: .int(8), remaining: []),
  .init(
    arguments: ["-subnet-lease-renew-margin=1_000"], flag: "subnet-lease-renew-margin",
    expected: .int(1000), remaining: []),
  .init(
    arguments: ["-healthz-port=-1"], flag: "healthz-port", expected: .int(-1), remaining: []),
  .init(arguments: ["-v=2"], flag: "v", expected: .int(2), remaining: []),
  .init(arguments: ["-v", "010"], flag: "v", expected: .int(10), remaining: []),
  // Parsing stops at the first non-flag, at a lone "-", and after "--" (consumed).
  .init(
    arguments: ["run", "-ip-masq"], flag: "ip-masq", expected: .bool(false),
    remaining: ["run", "-ip-masq"], setOnCommandLine: false),
  .init(
    arguments: ["-", "-ip-masq"], flag: "ip-masq", expected: .bool(false),
    remaining: ["-", "-ip-masq"], setOnCommandLine: false),
  .init(
    arguments: ["-ip-masq", "--", "-v=1"], flag: "ip-masq", expected: .bool(true),
    remaining: ["-v=1"]),
]

@Test(arguments: argumentForms)
func argumentForm(_ row: ArgumentFormCase) throws {
  let parsed = try GoFlagParser.parse(
    row.arguments, specs: FlanneldFlags.specs, environment: [:])
  #expect(parsed.values[row.flag] == row.expected)
  #expect(parsed.remainingArguments == row.remaining)
  #expect(parsed.source(of: row.flag) == (row.setOnCommandLine ? .commandLine : .default))
}

struct ArgumentErrorCase: CustomTestStringConvertible, Sendable {
  let arguments: [String]
  let error: FlagError
  let text: String
  var testDescription: String { arguments.joined(separator: " ") }
}

let argumentErrors: [ArgumentErrorCase] = [
  .init(
    arguments: ["-etcd-endpoint=http://a:2379"], error: .notDefined(name: "etcd-endpoint"),
    text: "flag provided but not defined: -etcd-endpoint"),
  .init(
    arguments: ["--no-such-flag"], error: .notDefined(name: "no-such-flag"),
    text: "flag provided but not defined: -no-such-flag"),
  .init(
    arguments: ["-ip-masq", "-etcd-prefix"], error: .missingArgument(name: "etcd-prefix"),
    text: "flag needs an argument: -etcd-prefix"),
  .init(
    arguments: ["-subnet-lease-renew-margin=abc"],
    error: .invalidValue(name: "subnet-lease-renew-margin", value: "abc", reason: "parse error"),
    text: "invalid value \"abc\" for flag -subnet-lease-renew-margin: parse error"),
  .init(
    arguments: ["-healthz-port", "99999999999999999999"],
    error: .invalidValue(
      name: "healthz-port", value: "99999999999999999999", reason: "value out of range"),
    text: "invalid value \"99999999999999999999\" for flag -healthz-port: value out of range"),
  .init(
    arguments: ["-iptables-resync=1__0"],
    error: .invalidValue(name: "iptables-resync", value: "1__0", reason: "parse error"),
    text: "invalid value \"1__0\" for flag -iptables-resync: parse error"),
  .init(
    arguments: ["-iptables-resync=0x"],
    error: .invalidValue(name: "iptables-resync", value: "0x", reason: "parse error"),
    text: "invalid value \"0x\" for flag -iptables-resync: parse error"),
  .init(
    arguments: ["-ip-masq=yes"],
    error: .invalidBoolean(name: "ip-masq", value: "yes", reason: "parse error"),
    text: "invalid boolean value \"yes\" for -ip-masq: parse error"),
  .init(
    arguments: ["-ip-masq="],
    error: .invalidBoolean(name: "ip-masq", value: "", reason: "parse error"),
    text: "invalid boolean value \"\" for -ip-masq: parse error"),
  .init(
    arguments: ["-v=0x1"],
    error: .invalidValue(
      name: "v", value: "0x1", reason: "strconv.Atoi: parsing \"0x1\": invalid syntax"),
    text: "invalid value \"0x1\" for flag -v: strconv.Atoi: parsing \"0x1\": invalid syntax"),
  .init(
    arguments: ["-vmodule=foo"],
    error: .invalidValue(
      name: "vmodule", value: "foo",
      reason: "syntax error: expect comma-separated list of filename=N"),
    text:
      "invalid value \"foo\" for flag -vmodule: syntax error: expect comma-separated list of filename=N"
  ),
  .init(
    arguments: ["-log_backtrace_at=main:3"],
    error: .invalidValue(
      name: "log_backtrace_at", value: "main:3", reason: "syntax error: expect file.go:234"),
    text: "invalid value \"main:3\" for flag -log_backtrace_at: syntax error: expect file.go:234"),
  .init(
    arguments: ["---ip-masq"], error: .badSyntax(argument: "---ip-masq"),
    text: "bad flag syntax: ---ip-masq"),
  .init(arguments: ["-=x"], error: .badSyntax(argument: "-=x"), text: "bad flag syntax: -=x"),
  .init(arguments: ["-h"], error: .helpRequested, text: "flag: help requested"),
  .init(arguments: ["-help"], error: .helpRequested, text: "flag: help requested"),
  .init(arguments: ["--help"], error: .helpRequested, text: "flag: help requested"),
  .init(arguments: ["-ip-masq", "--h"], error: .helpRequested, text: "flag: help requested"),
]

@Test(arguments: argumentErrors)
func argumentError(_ row: ArgumentErrorCase) {
  #expect(throws: row.error) {
    try GoFlagParser.parse(row.arguments, specs: FlanneldFlags.specs, environment: [:])
  }
  #expect(row.error.description == row.text)
}

@Test func flagsAcceptedVmoduleAndBacktraceForms() throws {
  let parsed = try GoFlagParser.parse(
    ["-vmodule=main=2,subnet*=3,", "-log_backtrace_at=main.go:120"],
    specs: FlanneldFlags.specs, environment: [:])
  #expect(parsed.string("vmodule") == "main=2,subnet*=3,")
  #expect(parsed.string("log_backtrace_at") == "main.go:120")
}

/// Fuzz finding (Fuzz/Flags): a value starting with a combining mark fused with the "=" into
/// one Character, so "-etcd-certfile=\u{315}" was refused as the undefined flag
/// "etcd-certfile=\u{315}" (Go splits at the byte). Likewise "-\u{301}x" is a flag in Go,
/// not the first positional argument.
@Test func flagSyntaxIsReadByteWiseAsGoDoes() throws {
  let parsed = try GoFlagParser.parse(
    ["-etcd-certfile=\u{315}", "--iface=\u{301}eth0", "-iface", "\u{301}"],
    specs: FlanneldFlags.specs, environment: [:])
  #expect(parsed.string("etcd-certfile") == "\u{315}")
  #expect(parsed.strings("iface") == ["\u{301}eth0", "\u{301}"])
  #expect(throws: FlagError.notDefined(name: "\u{301}x")) {
    try GoFlagParser.parse(["-\u{301}x"], specs: FlanneldFlags.specs, environment: [:])
  }
  #expect(throws: FlagError.badSyntax(argument: "-=\u{301}")) {
    try GoFlagParser.parse(["-=\u{301}"], specs: FlanneldFlags.specs, environment: [:])
  }
}

@Test func goQuoteEscapesLikeGo() {
  #expect(GoText.quote("a\"b\\c\n\t\u{01}é") == "\"a\\\"b\\\\c\\n\\t\\x01é\"")
}

@Test func goIntegerEdgeCases() {
  #expect(GoText.parseGoInt("9223372036854775807") == .success(Int.max))
  #expect(GoText.parseGoInt("-9223372036854775808") == .success(Int.min))
  #expect(GoText.parseGoInt("9223372036854775808") == .failure(.range))
  #expect(GoText.parseGoInt("0b101") == .success(5))
  #expect(GoText.parseGoInt("0O17") == .success(15))
  #expect(GoText.parseGoInt("+0x_1F") == .success(31))
  #expect(GoText.parseGoInt("08") == .failure(.syntax))
  #expect(GoText.parseGoInt("_1") == .failure(.syntax))
  #expect(GoText.parseGoInt("1_") == .failure(.syntax))
  #expect(GoText.parseGoInt("") == .failure(.syntax))
  #expect(GoText.parseGoInt("-") == .failure(.syntax))
  #expect(GoText.parseGoInt(" 1") == .failure(.syntax))
}
