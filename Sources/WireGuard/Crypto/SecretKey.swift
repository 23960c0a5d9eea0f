import CCrypto

/// 32 secret bytes (a private key, a preshared key, a derived symmetric key) in memory of
/// their own, wiped with `OPENSSL_cleanse` when the last reference goes. Immutable after
/// creation, so it may be shared between threads.
public final class SecretKey: @unchecked Sendable {
  /// The size of every key in the protocol.
  public static let size = 32

  private let storage: UnsafeMutableRawBufferPointer

  /// A copy of `bytes`, which must be exactly 32 bytes long.
  public init(bytes: some Collection<UInt8>) throws(KeyError) {
    guard bytes.count == Self.size else { throw .wrongLength(bytes.count) }
    storage = .allocate(byteCount: Self.size, alignment: 16)
    storage.copyBytes(from: bytes)
  }

  /// Decodes a key in `wg genkey` / `wg genpsk` form (base64 of 32 bytes).
  public convenience init(base64: String) throws(KeyError) {
    var decoded = try Base64Key.decode(base64)
    defer { wipe(&decoded) }
    try self.init(bytes: decoded)
  }

  /// 32 bytes from OpenSSL's random generator.
  public static func random() throws(KeyError) -> SecretKey {
    let key = SecretKey(uninitialized: ())
    guard RAND_bytes(key.storage.baseAddress!.assumingMemoryBound(to: UInt8.self), 32) == 1
    else { throw .randomGeneratorFailed }
    return key
  }

  /// The all-zero key: the preshared key of a peer that has none.
  public static func zero() -> SecretKey {
    let key = SecretKey(uninitialized: ())
    key.storage.initializeMemory(as: UInt8.self, repeating: 0)
    return key
  }

  init(uninitialized: Void) {
    storage = .allocate(byteCount: Self.size, alignment: 16)
  }

  deinit {
    OPENSSL_cleanse(storage.baseAddress, storage.count)
    storage.deallocate()
  }

  /// The key's bytes, for the duration of `body` only.
  public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R)
    throws(E) -> R
  {
    try body(UnsafeRawBufferPointer(storage))
  }

  func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
    body(storage)
  }

  /// The key in `wg` form (base64). Meant for writing a key file, never for logs.
  public var base64: String { Base64Key.encode(UnsafeRawBufferPointer(storage)) }

  /// Constant-time comparison.
  public func isEqual(to other: SecretKey) -> Bool {
    constantTimeEqual(UnsafeRawBufferPointer(storage), UnsafeRawBufferPointer(other.storage))
  }

  /// Whether every byte is zero (constant time).
  var isZero: Bool { constantTimeIsZero(UnsafeRawBufferPointer(storage)) }
}

/// A Curve25519 public key (32 bytes): not secret, a plain value.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
  /// The 32 bytes of the key.
  public let bytes: [UInt8]

  /// `bytes` must be exactly 32 bytes long.
  public init(bytes: some Collection<UInt8>) throws(KeyError) {
    guard bytes.count == SecretKey.size else { throw .wrongLength(bytes.count) }
    self.bytes = Array(bytes)
  }

  /// Decodes the base64 form used by `wg` and by flannel's lease `PublicKey`.
  public init(base64: String) throws(KeyError) {
    try self.init(bytes: Base64Key.decode(base64))
  }

  /// The base64 form used by `wg` and by flannel's lease `PublicKey`.
  public var base64: String { bytes.withUnsafeBytes { Base64Key.encode($0) } }

  public var description: String { base64 }
}

/// Why a key could not be made.
public enum KeyError: Error, Equatable, CustomStringConvertible {
  case wrongLength(Int)
  case notBase64
  case randomGeneratorFailed

  public var description: String {
    switch self {
    case .wrongLength(let count):
      "key has \(count) bytes, want 32 (a key is base64 of 32 bytes, as `wg genkey` writes)"
    case .notBase64:
      "key is not base64 (a key is base64 of 32 bytes, as `wg genkey` writes)"
    case .randomGeneratorFailed: "OpenSSL's random generator (RAND_bytes) failed"
    }
  }
}

/// Zeroes an array of secret bytes in place before it is dropped.
func wipe(_ bytes: inout [UInt8]) {
  bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
}
