/// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §2.3), for the cookie reply: the subkey is
/// HChaCha20(key, nonce[0..<16]), then ChaCha20-Poly1305 under that subkey with the nonce
/// 4 zero bytes || nonce[16..<24] — the protocol's nonce form with nonce[16..<24] read as a
/// little-endian counter. Handshake-rate code: allocates one cipher context per call.
enum XChaCha20Poly1305 {
  static let nonceSize = 24

  /// Ciphertext || tag of `plaintext`.
  static func seal(
    key: SecretKey, nonce: [UInt8], plaintext: [UInt8], additionalData: [UInt8]
  ) -> [UInt8] {
    let (subkey, counter) = split(key: key, nonce: nonce)
    return ChaCha20Poly1305Key(subkey).sealed(
      plaintext, additionalData: additionalData, counter: counter)
  }

  /// The plaintext of ciphertext || tag, or nil when the tag does not match.
  static func open(
    key: SecretKey, nonce: [UInt8], ciphertext: [UInt8], additionalData: [UInt8]
  ) -> [UInt8]? {
    let (subkey, counter) = split(key: key, nonce: nonce)
    return ChaCha20Poly1305Key(subkey).opened(
      ciphertext, additionalData: additionalData, counter: counter)
  }

  private static func split(key: SecretKey, nonce: [UInt8]) -> (SecretKey, UInt64) {
    precondition(nonce.count == nonceSize, "XChaCha20 takes a 24-byte nonce")
    var subkeyBytes = key.withUnsafeBytes { key in
      nonce[0..<16].withUnsafeBytes { HChaCha20.subkey(key: key, nonce: $0) }
    }
    defer { wipe(&subkeyBytes) }
    var counter: UInt64 = 0
    for index in (16..<24).reversed() { counter = counter << 8 | UInt64(nonce[index]) }
    return (try! SecretKey(bytes: subkeyBytes), counter)
  }
}
