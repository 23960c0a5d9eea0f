/// klog's own `flag.Value` rules for `-vmodule` and `-log_backtrace_at`: stock flanneld
/// refuses what klog refuses, so we do too (we do not use the values otherwise).
enum KlogValues {
  static let vmoduleSyntax = "syntax error: expect comma-separated list of filename=N"
  static let traceSyntax = "syntax error: expect file.go:234"

  /// `pattern=N[,pattern=N...]`; empty items (a trailing comma) are ignored; N >= 0.
  @Sendable static func checkVmodule(_ text: String) -> String? {
    for item in text.split(separator: ",", omittingEmptySubsequences: true) {
      let parts = item.split(separator: "=", omittingEmptySubsequences: false)
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return vmoduleSyntax }
      guard case .success(let level) = GoText.parseDecimal(String(parts[1])),
        level >= Int(Int32.min), level <= Int(Int32.max)
      else { return vmoduleSyntax }
      if level < 0 { return "negative value for vmodule level" }
    }
    return nil
  }

  /// `file.go:N` with N > 0, or empty.
  @Sendable static func checkTraceLocation(_ text: String) -> String? {
    if text.isEmpty { return nil }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, parts[0].contains("."),
      case .success(let line) = GoText.parseDecimal(String(parts[1]))
    else { return traceSyntax }
    return line <= 0 ? "negative or zero value for level" : nil
  }
}
