import FlannelCore
import WireGuard

#if canImport(Glibc)
  import Glibc
#endif

/// The node's WireGuard private key, kept as stock flannel keeps it (flannel-behaviour §6b):
/// read from the key file when it exists, else generated and written there — base64 without
/// a newline, mode 0400. The file is written whole or not at all (`AtomicFile`: a temporary
/// file only its owner can open, fsynced, renamed), so a crash mid-write cannot leave a
/// truncated key that blocks the next start.
enum WireGuardKeyStore {
  /// The key at `path` and whether it was created now.
  static func loadOrCreate(path: String) throws -> (key: SecretKey, created: Bool) {
    if let contents = try AtomicFile.read(path) {
      let key = try WireGuardKeyFile.parse(contents)
      return (try SecretKey(bytes: key.bytes), false)
    }
    let key = try X25519.newPrivateKey()
    let text = key.withUnsafeBytes { bytes in
      WireGuardKey(bytes: Array(bytes)).map(WireGuardKeyFile.contents) ?? ""
    }
    try AtomicFile.write(text, to: path, mode: mode_t(WireGuardKeyFile.mode))
    return (key, true)
  }
}
