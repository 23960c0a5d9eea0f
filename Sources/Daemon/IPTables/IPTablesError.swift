public enum IPTablesError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No iptables/iptables-save/iptables-restore in PATH.
  case binaryNotFound(name: String, path: String)
  case commandFailed(command: String, status: Int32, stderr: String)

  public var description: String {
    switch self {
    case .binaryNotFound(let name, let path):
      return
        "Failed to setup IPTables. iptables binary was not found: \(name) is not in PATH (\(path)); install the iptables package, or run without -ip-masq and with -iptables-forward-rules=false"
    case .commandFailed(let command, let status, let stderr):
      let detail = stderr.trimmingWhitespace()
      return "\(command) exited \(status)" + (detail.isEmpty ? "" : ": \(detail)")
    }
  }
}

extension String {
  fileprivate func trimmingWhitespace() -> String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else {
      return ""
    }
    let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
    return String(scalars[first...last])
  }
}
