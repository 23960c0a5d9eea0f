/// A command-line error, worded exactly as Go's `flag` package prints it so operators see the
/// same text as with stock flanneld.
public enum FlagError: Error, Equatable, CustomStringConvertible {
  /// `-h`, `-help` or `--help` was given and no flag of that name is defined.
  case helpRequested
  /// `---x`, `-=x`: the name starts with a dash or `=`.
  case badSyntax(argument: String)
  case notDefined(name: String)
  /// A non-bool flag was the last argument and had no `=value`.
  case missingArgument(name: String)
  case invalidBoolean(name: String, value: String, reason: String)
  case invalidValue(name: String, value: String, reason: String)

  public var description: String {
    switch self {
    case .helpRequested: "flag: help requested"
    case .badSyntax(let argument): "bad flag syntax: \(argument)"
    case .notDefined(let name): "flag provided but not defined: -\(name)"
    case .missingArgument(let name): "flag needs an argument: -\(name)"
    case .invalidBoolean(let name, let value, let reason):
      "invalid boolean value \(GoText.quote(value)) for -\(name): \(reason)"
    case .invalidValue(let name, let value, let reason):
      "invalid value \(GoText.quote(value)) for flag -\(name): \(reason)"
    }
  }
}
