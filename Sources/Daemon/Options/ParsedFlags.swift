/// Where a flag's final value came from; the daemon uses it to warn about surprising
/// settings (for example a value that only the environment provided).
public enum FlagSource: Sendable, Equatable {
  case `default`
  case commandLine
  case environment
}

/// A parsed flag value, typed by its `FlagKind`.
public enum FlagValue: Sendable, Equatable {
  case bool(Bool)
  case string(String)
  case int(Int)
  case strings([String])
}

/// The result of `GoFlagParser.parse`: every flag's value and source, the arguments left
/// after the flags, and the environment values that were refused.
public struct ParsedFlags: Sendable {
  public let values: [String: FlagValue]
  public let sources: [String: FlagSource]
  /// Arguments from the first non-flag argument on (after `--` if that stopped parsing).
  public let remainingArguments: [String]
  /// One message per refused environment value, worded as stock flanneld logs it
  /// (`invalid value "x" for FLANNELD_IP_MASQ: parse error`). Stock logs these and keeps the
  /// default, so they are not thrown.
  public let environmentErrors: [String]

  public func source(of name: String) -> FlagSource { sources[name] ?? .default }

  public func bool(_ name: String) -> Bool {
    guard case .bool(let value) = values[name] else { preconditionFailure("no bool flag \(name)") }
    return value
  }

  public func string(_ name: String) -> String {
    guard case .string(let value) = values[name] else {
      preconditionFailure("no string flag \(name)")
    }
    return value
  }

  public func int(_ name: String) -> Int {
    guard case .int(let value) = values[name] else { preconditionFailure("no int flag \(name)") }
    return value
  }

  public func strings(_ name: String) -> [String] {
    guard case .strings(let value) = values[name] else {
      preconditionFailure("no list flag \(name)")
    }
    return value
  }
}
