/// The glog/klog header flannel operators know from stock flanneld:
/// `I1127 03:21:20.123456   12345 label] message key=value`.
public enum GlogLine {
  /// Local wall-clock time split the way the header shows it.
  public struct Timestamp: Sendable, Equatable {
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var microsecond: Int

    public init(month: Int, day: Int, hour: Int, minute: Int, second: Int, microsecond: Int) {
      self.month = month
      self.day = day
      self.hour = hour
      self.minute = minute
      self.second = second
      self.microsecond = microsecond
    }
  }

  /// klog has no debug letter: V-level messages print as `I`, so ours do too.
  public static func letter(for level: LogLevelName) -> Character {
    switch level {
    case .trace, .debug, .info, .notice: "I"
    case .warning: "W"
    case .error: "E"
    case .critical: "F"
    }
  }

  /// One complete line including the trailing newline. Metadata is sorted by key so lines
  /// are stable; values with spaces, quotes or `=` are quoted Go-style.
  public static func format(
    level: LogLevelName, time: Timestamp, pid: Int32, label: String, message: String,
    metadata: [(String, String)]
  ) -> String {
    var line = String(letter(for: level))
    line += pad(time.month, 2) + pad(time.day, 2) + " "
    line += pad(time.hour, 2) + ":" + pad(time.minute, 2) + ":" + pad(time.second, 2)
    line += "." + pad(time.microsecond, 6) + " "
    let pidText = String(pid)
    line += String(repeating: " ", count: max(0, 7 - pidText.count)) + pidText
    line += " \(label)] \(message)"
    for (key, value) in metadata.sorted(by: { $0.0 < $1.0 }) {
      line += " \(key)=\(quoteIfNeeded(value))"
    }
    return line + "\n"
  }

  private static func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
  }

  private static func quoteIfNeeded(_ value: String) -> String {
    let needsQuotes =
      value.isEmpty
      || value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 }
    return needsQuotes ? GoText.quote(value) : value
  }
}

/// swift-log's levels without importing Logging into the pure formatter.
public enum LogLevelName: Sendable {
  case trace, debug, info, notice, warning, error, critical
}
