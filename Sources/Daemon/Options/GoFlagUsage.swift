extension GoFlagParser {
  /// The `-h` text of stock flanneld: `Usage: <argv0> [OPTION]...` followed by Go's
  /// `FlagSet.PrintDefaults` layout (flags sorted by name, usage on an indented second line,
  /// non-zero defaults appended, strings quoted).
  public static func usage(programName: String, specs: [FlagSpec]) -> String {
    var out = "Usage: \(programName) [OPTION]...\n"
    let sorted = specs.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    for spec in sorted {
      let (placeholder, text) = placeholderAndUsage(spec)
      var line = "  -\(spec.name)"
      if !placeholder.isEmpty { line += " \(placeholder)" }
      // Go keeps the usage of one-letter bool flags on the same line.
      line += line.utf8.count <= 4 ? "\t" : "\n    \t"
      line += text.split(separator: "\n", omittingEmptySubsequences: false)
        .joined(separator: "\n    \t")
      if !isZeroDefault(spec) {
        line +=
          spec.kind == .string && spec.valueName == nil
          ? " (default \(GoText.quote(spec.defaultValue)))"
          : " (default \(spec.defaultValue))"
      }
      out += line + "\n"
    }
    return out
  }

  /// Go's `UnquoteUsage`: a name in back quotes inside the usage becomes the placeholder
  /// (and loses its quotes); otherwise the placeholder comes from the value type.
  private static func placeholderAndUsage(_ spec: FlagSpec) -> (String, String) {
    let usage = spec.usage
    if let open = usage.firstIndex(of: "`") {
      let afterOpen = usage.index(after: open)
      if let close = usage[afterOpen...].firstIndex(of: "`") {
        let name = String(usage[afterOpen..<close])
        let text = String(usage[..<open]) + name + String(usage[usage.index(after: close)...])
        return (name, text)
      }
    }
    if let valueName = spec.valueName { return (valueName, usage) }
    switch spec.kind {
    case .bool: return ("", usage)
    case .string: return ("string", usage)
    case .int: return ("int", usage)
    case .verbosity, .stringList: return ("value", usage)
    }
  }

  private static func isZeroDefault(_ spec: FlagSpec) -> Bool {
    switch spec.kind {
    case .bool: spec.defaultValue == "false"
    case .int, .verbosity: spec.defaultValue == "0"
    case .string, .stringList: spec.defaultValue.isEmpty
    }
  }
}
