import FlannelCore
import Foundation
import Testing
import WireGuard

@testable import Daemon

/// The private key file as stock flannel keeps it: created once (0400, base64 without a
/// newline), then read back on every start; a file that holds no key is an error, not
/// silently replaced (peers know this node by the public key in its lease).
@Suite struct WireGuardKeyStoreTests {
  /// A key file path under a fresh scratch directory (`root`, removed by the caller).
  func scratch() -> (root: URL, path: String) {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent(
      "wgkey-\(UUID().uuidString)")
    return (root, root.appendingPathComponent("run/flannel/wgkey").path)
  }

  @Test func createsOnceThenReadsTheSameKey() throws {
    let (root, path) = scratch()
    defer { try? FileManager.default.removeItem(at: root) }
    let (first, created) = try WireGuardKeyStore.loadOrCreate(path: path)
    #expect(created)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o400)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.count == 44 && !text.hasSuffix("\n"))
    #expect(WireGuardKey(base64: text) != nil)

    let (again, createdAgain) = try WireGuardKeyStore.loadOrCreate(path: path)
    #expect(!createdAgain)
    #expect(again.isEqual(to: first))
    #expect(X25519.publicKey(of: again) == X25519.publicKey(of: first))
  }

  @Test func aKeyWrittenByWgGenkeyIsRead() throws {
    let (root, path) = scratch()
    try FileManager.default.createDirectory(
      at: URL(fileURLWithPath: path).deletingLastPathComponent(),
      withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    // `wg genkey > wgkey` leaves a newline.
    let key = String(repeating: "A", count: 42) + "E=\n"
    try key.write(toFile: path, atomically: false, encoding: .utf8)
    let (read, created) = try WireGuardKeyStore.loadOrCreate(path: path)
    #expect(!created)
    read.withUnsafeBytes { #expect(Array($0) == WireGuardKey(base64: key)?.bytes) }
  }

  @Test func aFileWithoutAKeyIsRefusedAndKept() throws {
    let (root, path) = scratch()
    try FileManager.default.createDirectory(
      at: URL(fileURLWithPath: path).deletingLastPathComponent(),
      withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    try "not a key".write(toFile: path, atomically: false, encoding: .utf8)
    let error = #expect(throws: WireGuardConfigError.self) {
      try WireGuardKeyStore.loadOrCreate(path: path)
    }
    #expect(error?.description.hasPrefix("could not parse private key from file") == true)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a key")
  }
}
