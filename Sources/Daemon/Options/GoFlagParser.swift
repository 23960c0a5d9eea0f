/// A command-line parser that accepts exactly what Go's `flag` package accepts (stock
/// flanneld's parser), followed by flanneld's `FLANNELD_*` environment fallback.
///
/// Operators replace stock flanneld without touching their systemd units, so every quirk is
/// kept: `-name` and `--name` are the same, a bool takes a value only with `=`, the argument
/// after a non-bool flag is its value even if it starts with a dash, and parsing stops at the
/// first non-flag argument.
public enum GoFlagParser {
  public static func parse(
    _ arguments: [String], specs: [FlagSpec], environment: [String: String],
    envPrefix: String = "FLANNELD_"
  ) throws(FlagError) -> ParsedFlags {
    var specByName: [String: FlagSpec] = .init(minimumCapacity: specs.count)
    var values: [String: FlagValue] = .init(minimumCapacity: specs.count)
    var sources: [String: FlagSource] = .init(minimumCapacity: specs.count)
    for spec in specs {
      specByName[spec.name] = spec
      values[spec.name] = defaultValue(of: spec)
      sources[spec.name] = .default
    }

    var index = arguments.startIndex
    while index < arguments.endIndex {
      let argument = arguments[index]
      // Bytes, as Go reads them: as Characters, "=" or "-" followed by a combining mark
      // would be one character and not match ("-iface=\u{301}x" read as flag "iface=\u{301}x").
      // Cutting at ASCII bytes always leaves valid UTF-8.
      let bytes = Array(argument.utf8)
      guard bytes.count >= 2, bytes[0] == UInt8(ascii: "-") else { break }
      index += 1
      var nameStart = 1
      if bytes[1] == UInt8(ascii: "-") {
        if bytes.count == 2 { break }  // "--" ends the flags and is consumed
        nameStart = 2
      }
      if bytes[nameStart] == UInt8(ascii: "-") || bytes[nameStart] == UInt8(ascii: "=") {
        throw .badSyntax(argument: argument)
      }
      var inlineValue: String?
      var nameEnd = bytes.endIndex
      if let equals = bytes[nameStart...].firstIndex(of: UInt8(ascii: "=")) {
        inlineValue = String(decoding: bytes[(equals + 1)...], as: UTF8.self)
        nameEnd = equals
      }
      let flagName = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
      guard let spec = specByName[flagName] else {
        if flagName == "help" || flagName == "h" { throw .helpRequested }
        throw .notDefined(name: flagName)
      }

      let text: String
      if spec.kind == .bool {
        text = inlineValue ?? "true"
      } else if let inlineValue {
        text = inlineValue
      } else if index < arguments.endIndex {
        text = arguments[index]
        index += 1
      } else {
        throw .missingArgument(name: flagName)
      }
      switch convert(text, for: spec, previous: values[flagName]) {
      case .success(let value):
        values[flagName] = value
        sources[flagName] = .commandLine
      case .failure(let reason):
        if spec.kind == .bool {
          throw .invalidBoolean(name: flagName, value: text, reason: reason.text)
        }
        throw .invalidValue(name: flagName, value: text, reason: reason.text)
      }
    }

    // Stock flanneld (coreos/pkg flagutil.SetFlagsFromEnv): every flag not given on the
    // command line takes a non-empty PREFIX_NAME variable; a refused value is reported and
    // the flag keeps its default. Applied in flag-name order, so refusals are reported in
    // that order (only the flags that have a variable are sorted).
    var environmentErrors: [String] = []
    let fromEnvironment = specs.compactMap { spec -> (FlagSpec, String, String)? in
      guard sources[spec.name] != .commandLine else { return nil }
      let key = environmentKey(for: spec.name, prefix: envPrefix)
      guard let text = environment[key], !text.isEmpty else { return nil }
      return (spec, key, text)
    }.sorted { $0.0.name.utf8.lexicographicallyPrecedes($1.0.name.utf8) }
    for (spec, key, text) in fromEnvironment {
      switch convert(text, for: spec, previous: values[spec.name]) {
      case .success(let value):
        values[spec.name] = value
        sources[spec.name] = .environment
      case .failure(let reason):
        environmentErrors.append("invalid value \(GoText.quote(text)) for \(key): \(reason.text)")
      }
    }

    return ParsedFlags(
      values: values, sources: sources,
      remainingArguments: Array(arguments[index...]), environmentErrors: environmentErrors)
  }

  /// `etcd-endpoints` → `FLANNELD_ETCD_ENDPOINTS` (dots and dashes become underscores).
  public static func environmentKey(for name: String, prefix: String = "FLANNELD_") -> String {
    prefix + String(name.uppercased().map { $0 == "-" || $0 == "." ? "_" : $0 })
  }

  struct Refusal: Error {
    let text: String
  }

  /// Turns one occurrence's text into the flag's new value (a list flag appends to
  /// `previous`), or the reason Go would print.
  static func convert(_ text: String, for spec: FlagSpec, previous: FlagValue?) -> Result<
    FlagValue, Refusal
  > {
    let value: FlagValue
    switch spec.kind {
    case .bool:
      guard let parsed = GoText.parseBool(text) else {
        return .failure(Refusal(text: GoText.NumberError.syntax.flagReason))
      }
      value = .bool(parsed)
    case .string:
      value = .string(text)
    case .int:
      switch GoText.parseGoInt(text) {
      case .success(let parsed): value = .int(parsed)
      case .failure(let error): return .failure(Refusal(text: error.flagReason))
      }
    case .verbosity:
      switch GoText.parseDecimal(text) {
      case .success(let parsed): value = .int(parsed)
      case .failure(let error): return .failure(Refusal(text: GoText.atoiMessage(text, error)))
      }
    case .stringList:
      guard case .strings(let earlier) = previous else { return .success(.strings([text])) }
      value = .strings(earlier + [text])
    }
    if let reason = spec.check?(text) { return .failure(Refusal(text: reason)) }
    return .success(value)
  }

  private static func defaultValue(of spec: FlagSpec) -> FlagValue {
    if spec.kind == .stringList {
      return .strings(spec.defaultValue.isEmpty ? [] : [spec.defaultValue])
    }
    guard case .success(let value) = convert(spec.defaultValue, for: spec, previous: nil) else {
      preconditionFailure("default \(spec.defaultValue) of -\(spec.name) does not parse")
    }
    return value
  }
}
