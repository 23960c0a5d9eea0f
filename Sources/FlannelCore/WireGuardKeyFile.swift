/// Where the node's WireGuard private key lives and what the file holds (flannel-behaviour
/// §6b): stock reads `/run/flannel/wgkey`, or the file WIREGUARD_KEY_FILE names, and when it
/// is missing generates a key and writes it there with mode 0400 as base64 without a newline.
/// Reading and writing the file is the daemon's; this is only the pure part.
public enum WireGuardKeyFile {
  public static let defaultPath = "/run/flannel/wgkey"
  public static let environmentVariable = "WIREGUARD_KEY_FILE"
  /// Owner read only.
  public static let mode: UInt32 = 0o400

  /// The key file's path for this environment. An empty WIREGUARD_KEY_FILE counts as unset
  /// (stock would try to use "" and fail to write it).
  public static func path(environment: [String: String]) -> String {
    guard let path = environment[environmentVariable], !path.isEmpty else { return defaultPath }
    return path
  }

  /// What stock writes into a new key file.
  public static func contents(_ key: WireGuardKey) -> String { key.base64 }

  /// The key in a key file's content; see `WireGuardKey.parsePrivateKeyFile`.
  public static func parse(_ content: String) throws(WireGuardConfigError) -> WireGuardKey {
    try WireGuardKey.parsePrivateKeyFile(content)
  }
}
