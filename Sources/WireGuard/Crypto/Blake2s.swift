import CCrypto

/// BLAKE2s as the protocol uses it: HASH (BLAKE2s-256), MAC (keyed BLAKE2s with a 16-byte
/// output) and HMAC (HMAC over BLAKE2s-256), all through OpenSSL's EVP. Handshake-rate code:
/// each call makes and frees one OpenSSL context.
enum Blake2s {
  static let hashSize = 32
  static let macSize = 16

  /// HASH(parts[0] || parts[1] || …).
  static func hash(_ parts: [UInt8]...) -> [UInt8] {
    guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
    defer { EVP_MD_CTX_free(context) }
    var out = [UInt8](repeating: 0, count: hashSize)
    var length: UInt32 = 0
    guard EVP_DigestInit_ex(context, OpenSSLAlgorithms.blake2s256, nil) == 1 else {
      fatalError("EVP_DigestInit_ex(BLAKE2S-256) failed")
    }
    for part in parts where !part.isEmpty {
      let updated = part.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
      guard updated == 1 else { fatalError("EVP_DigestUpdate(BLAKE2S-256) failed") }
    }
    let finished = out.withUnsafeMutableBufferPointer {
      EVP_DigestFinal_ex(context, $0.baseAddress, &length)
    }
    guard finished == 1, length == hashSize else { fatalError("EVP_DigestFinal_ex failed") }
    return out
  }

  /// MAC(key, parts…): keyed BLAKE2s, 16-byte output; `key` is 1…32 bytes.
  static func mac(key: UnsafeRawBufferPointer, _ parts: UnsafeRawBufferPointer...) -> [UInt8] {
    compute(OpenSSLAlgorithms.blake2sMAC128Template, key: key, parts, size: macSize)
  }

  /// MAC with an array key and array parts.
  static func mac(key: [UInt8], _ parts: [UInt8]...) -> [UInt8] {
    key.withUnsafeBytes { key in
      withRawBuffers(parts) {
        compute(OpenSSLAlgorithms.blake2sMAC128Template, key: key, $0, size: macSize)
      }
    }
  }

  /// HMAC(key, parts…) over BLAKE2s-256, 32-byte output.
  static func hmac(key: [UInt8], _ parts: [UInt8]...) -> [UInt8] {
    key.withUnsafeBytes { key in
      withRawBuffers(parts) {
        compute(OpenSSLAlgorithms.hmacBlake2sTemplate, key: key, $0, size: hashSize)
      }
    }
  }

  private static func compute(
    _ template: OpaquePointer, key: UnsafeRawBufferPointer, _ parts: [UnsafeRawBufferPointer],
    size: Int
  ) -> [UInt8] {
    guard let context = EVP_MAC_CTX_dup(template) else { fatalError("EVP_MAC_CTX_dup failed") }
    defer { EVP_MAC_CTX_free(context) }
    // An empty key still goes in as a non-null pointer: HMAC takes a null key to mean
    // "keep the previous key", and a fresh context has none.
    var emptyKey: UInt8 = 0
    let initialised = withUnsafePointer(to: &emptyKey) { empty in
      EVP_MAC_init(
        context, key.isEmpty ? empty : key.baseAddress!.assumingMemoryBound(to: UInt8.self),
        key.count, nil)
    }
    guard initialised == 1 else { fatalError("EVP_MAC_init refused a \(key.count)-byte key") }
    for part in parts where !part.isEmpty {
      let updated = EVP_MAC_update(
        context, part.baseAddress!.assumingMemoryBound(to: UInt8.self), part.count)
      guard updated == 1 else { fatalError("EVP_MAC_update failed") }
    }
    var out = [UInt8](repeating: 0, count: size)
    var length = 0
    let finished = out.withUnsafeMutableBufferPointer {
      EVP_MAC_final(context, $0.baseAddress, &length, size)
    }
    guard finished == 1, length == size else { fatalError("EVP_MAC_final failed") }
    return out
  }

  /// Runs `body` with raw views of every array (nested, so each view stays valid).
  private static func withRawBuffers<R>(
    _ arrays: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) -> R
  ) -> R {
    func step(_ index: Int, _ collected: [UnsafeRawBufferPointer]) -> R {
      if index == arrays.count { return body(collected) }
      return arrays[index].withUnsafeBytes { step(index + 1, collected + [$0]) }
    }
    return step(0, [])
  }
}
