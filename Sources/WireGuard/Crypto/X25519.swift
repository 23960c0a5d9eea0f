import CCrypto

/// Curve25519 Diffie-Hellman (RFC 7748) through OpenSSL's EVP_PKEY: key generation with the
/// protocol's clamping, public keys, and DH that refuses an all-zero shared secret (a
/// low-order public key).
public enum X25519 {
  /// A new private key: 32 random bytes, clamped (bits 0–2 of the first byte cleared, bit 7
  /// of the last cleared and bit 6 set), as `wg genkey` writes them.
  public static func newPrivateKey() throws(KeyError) -> SecretKey {
    let key = try SecretKey.random()
    key.withUnsafeMutableBytes { bytes in
      bytes[0] &= 248
      bytes[31] = (bytes[31] & 127) | 64
    }
    return key
  }

  /// The public key of `privateKey`.
  public static func publicKey(of privateKey: SecretKey) -> PublicKey {
    let pkey = makePrivate(privateKey)
    defer { EVP_PKEY_free(pkey) }
    var bytes = [UInt8](repeating: 0, count: 32)
    var length = 32
    let ok = bytes.withUnsafeMutableBufferPointer {
      EVP_PKEY_get_raw_public_key(pkey, $0.baseAddress, &length)
    }
    guard ok == 1, length == 32 else { fatalError("EVP_PKEY_get_raw_public_key failed") }
    return try! PublicKey(bytes: bytes)
  }

  /// DH(privateKey, publicKey): the 32-byte shared secret, or nil when it would be all zero.
  static func sharedSecret(_ privateKey: SecretKey, _ publicKey: PublicKey) -> SecretKey? {
    let ours = makePrivate(privateKey)
    defer { EVP_PKEY_free(ours) }
    guard
      let theirs = publicKey.bytes.withUnsafeBufferPointer({
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nil, $0.baseAddress, 32)
      })
    else { return nil }
    defer { EVP_PKEY_free(theirs) }
    guard let context = EVP_PKEY_CTX_new(ours, nil) else { return nil }
    defer { EVP_PKEY_CTX_free(context) }
    guard EVP_PKEY_derive_init(context) == 1, EVP_PKEY_derive_set_peer(context, theirs) == 1
    else { return nil }
    let secret = SecretKey(uninitialized: ())
    var length = 32
    // OpenSSL itself fails the derivation when the result is all zero; the check below
    // keeps that property whatever the library version does.
    let derived = secret.withUnsafeMutableBytes {
      EVP_PKEY_derive(context, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
    }
    guard derived == 1, length == 32, !secret.isZero else { return nil }
    return secret
  }

  private static func makePrivate(_ key: SecretKey) -> OpaquePointer {
    let pkey = key.withUnsafeBytes {
      EVP_PKEY_new_raw_private_key(
        EVP_PKEY_X25519, nil, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 32)
    }
    guard let pkey else { fatalError("EVP_PKEY_new_raw_private_key(X25519) failed") }
    return pkey
  }
}
