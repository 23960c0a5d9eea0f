/// Why flanneld's options were refused: a command-line error (Go `flag` wording) or a value
/// that parsed but is not acceptable (stock wording where stock has one, plus the fix).
public enum OptionsError: Error, Equatable, CustomStringConvertible {
  case flag(FlagError)
  case invalid(flag: String, message: String)

  public var description: String {
    switch self {
    case .flag(let error): error.description
    case .invalid(_, let message): message
    }
  }
}
