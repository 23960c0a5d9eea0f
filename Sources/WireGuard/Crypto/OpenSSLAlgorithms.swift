import CCrypto

/// OpenSSL algorithm objects fetched once per process (fetching is a locked table look-up;
/// the fetched objects are immutable and safe to use from every thread).
enum OpenSSLAlgorithms {
  nonisolated(unsafe) static let chaCha20Poly1305: OpaquePointer = fetchCipher("ChaCha20-Poly1305")
  nonisolated(unsafe) static let blake2s256: OpaquePointer = {
    guard let digest = EVP_MD_fetch(nil, "BLAKE2S-256", nil) else {
      fatalError("OpenSSL has no BLAKE2S-256 digest (libcrypto 3.0 or later is required)")
    }
    return digest
  }()

  /// An HMAC context set to BLAKE2s-256, to be duplicated and keyed per use.
  nonisolated(unsafe) static let hmacBlake2sTemplate: OpaquePointer = macTemplate("HMAC") {
    context in
    "digest".withCString { key in
      "BLAKE2S-256".withCString { name in
        let params = [
          OSSL_PARAM_construct_utf8_string(key, UnsafeMutablePointer(mutating: name), 0),
          OSSL_PARAM_construct_end(),
        ]
        return params.withUnsafeBufferPointer { EVP_MAC_CTX_set_params(context, $0.baseAddress) }
      }
    }
  }

  /// A keyed-BLAKE2s context with a 16-byte output (the protocol's MAC), duplicated per use.
  nonisolated(unsafe) static let blake2sMAC128Template: OpaquePointer = macTemplate("BLAKE2SMAC") {
    context in
    var size = 16
    return withUnsafeMutablePointer(to: &size) { size in
      "size".withCString { key in
        let params = [OSSL_PARAM_construct_size_t(key, size), OSSL_PARAM_construct_end()]
        return params.withUnsafeBufferPointer { EVP_MAC_CTX_set_params(context, $0.baseAddress) }
      }
    }
  }

  private static func fetchCipher(_ name: String) -> OpaquePointer {
    guard let cipher = EVP_CIPHER_fetch(nil, name, nil) else {
      fatalError("OpenSSL has no \(name) cipher (libcrypto 3.0 or later is required)")
    }
    return cipher
  }

  private static func macTemplate(_ name: String, configure: (OpaquePointer) -> Int32)
    -> OpaquePointer
  {
    guard let mac = EVP_MAC_fetch(nil, name, nil), let context = EVP_MAC_CTX_new(mac) else {
      fatalError("OpenSSL has no \(name) MAC (libcrypto 3.0 or later is required)")
    }
    EVP_MAC_free(mac)  // the context keeps its own reference
    guard configure(context) == 1 else {
      fatalError("OpenSSL refused the parameters of the \(name) MAC")
    }
    return context
  }
}
