/// Which UDP port the udp backend uses (flannel-behaviour §4.1: the same port to listen on and
/// to send to, so every node of a cluster must agree on it).
public enum UDPPortChoice {
  public static let defaultPort = 8285

  /// `-port` (0 = not given) against the config's `Backend.Port` (nil = not set). The command
  /// line selects the port when the config names none, and overrides it — with a warning —
  /// when it differs.
  public static func resolve(configPort: Int?, commandLine: Int) -> (
    port: Int, warning: String?
  ) {
    let fromConfig = configPort.flatMap { $0 > 0 ? $0 : nil }
    guard commandLine > 0 else { return (fromConfig ?? defaultPort, nil) }
    if let fromConfig, fromConfig != commandLine {
      return (
        commandLine,
        "-port \(commandLine) overrides Backend.Port \(fromConfig) from the network config: every node of the cluster must use the same port"
      )
    }
    return (commandLine, nil)
  }
}
