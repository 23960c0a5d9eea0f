/// How a flag's text is turned into a value, mirroring the Go `flag.Value` types stock
/// flanneld registers.
public enum FlagKind: Sendable, Equatable {
  /// `flag.BoolVar`: `-x` alone means true; a value only with `=` (Go `strconv.ParseBool`).
  case bool
  /// `flag.StringVar`.
  case string
  /// `flag.IntVar`: Go `strconv.ParseInt(s, 0, 64)`, so `0x10`, `010` (octal), `1_000` work.
  case int
  /// klog's `-v` Level: base-10 only (`strconv.Atoi`), with Go's error text.
  case verbosity
  /// A repeatable flag (flannel's `flagSlice`): every occurrence appends one value.
  case stringList
}

/// One command-line flag: its name (without dashes), kind, default and help text.
public struct FlagSpec: Sendable {
  public var name: String
  public var kind: FlagKind
  /// The default, written as it would be on the command line ("" for an empty list).
  public var defaultValue: String
  public var usage: String
  /// The placeholder Go's PrintDefaults shows after the name; nil derives it from `kind`
  /// (custom `flag.Value` types such as klog's show "value").
  public var valueName: String?
  /// An extra check run after the kind accepted the text, like a custom `flag.Value.Set`:
  /// returns the reason the value is refused (Go prints it after "invalid value …: "), or nil.
  public var check: (@Sendable (String) -> String?)?

  public init(
    name: String, kind: FlagKind, defaultValue: String, usage: String,
    valueName: String? = nil, check: (@Sendable (String) -> String?)? = nil
  ) {
    self.name = name
    self.kind = kind
    self.defaultValue = defaultValue
    self.usage = usage
    self.valueName = valueName
    self.check = check
  }
}
