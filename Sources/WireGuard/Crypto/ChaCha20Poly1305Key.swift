import CCrypto

/// A ChaCha20-Poly1305 (RFC 8439) key with its one OpenSSL cipher context, set up once for
/// the key's life: `seal` and `open` work in place on raw buffers, allocate nothing and
/// never throw, so the data path can call them per packet.
///
/// The nonce is the protocol's: 4 zero bytes, then the 64-bit counter little-endian.
///
/// Thread confinement: the cipher context and the nonce buffer are mutated by every call, so
/// one key object belongs to one thread and is not `Sendable`: two threads sealing on one
/// context at once could mix their nonces. Each thread or worker makes its own from the
/// shared key material (`TransportKeys.makeSealer()` / `makeOpener()`).
public final class ChaCha20Poly1305Key {
  /// Bytes the Poly1305 tag adds after the ciphertext.
  public static let tagSize = 16

  /// The key material, kept for `duplicate()` (wiped with the last reference).
  let key: SecretKey
  private let context: OpaquePointer
  /// The 12-byte nonce, rewritten per call (owned here so that calls do not allocate).
  private let nonce: UnsafeMutablePointer<UInt8>

  /// A cipher context keyed with `key` (32 bytes).
  public init(_ key: SecretKey) {
    self.key = key
    guard let context = EVP_CIPHER_CTX_new() else {
      fatalError("EVP_CIPHER_CTX_new: out of memory")
    }
    self.context = context
    nonce = .allocate(capacity: 12)
    nonce.initialize(repeating: 0, count: 12)
    let keyed = key.withUnsafeBytes {
      EVP_CipherInit_ex(
        context, OpenSSLAlgorithms.chaCha20Poly1305, nil,
        $0.baseAddress!.assumingMemoryBound(to: UInt8.self), nil, 1)
    }
    guard keyed == 1 else { fatalError("EVP_CipherInit_ex(ChaCha20-Poly1305) refused a key") }
  }

  deinit {
    EVP_CIPHER_CTX_free(context)  // the provider wipes its key schedule
    nonce.deallocate()
  }

  /// Another context with the same key (on this thread: the result is not `Sendable`
  /// either; another thread makes its own from the `SecretKey`).
  public func duplicate() -> ChaCha20Poly1305Key { ChaCha20Poly1305Key(key) }

  /// Encrypts the `length` bytes at `data` in place and writes the 16-byte tag right after
  /// them: `data` must have room for `length + 16` bytes. `additionalData` is authenticated,
  /// not encrypted. False only if OpenSSL fails (it does not for valid arguments).
  public func seal(
    _ data: UnsafeMutableRawPointer, length: Int, counter: UInt64,
    additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
  ) -> Bool {
    setNonce(counter: counter)
    return crypt(data, length: length, nonce: nonce, additionalData: additionalData, encrypt: true)
  }

  /// Decrypts in place: `length` counts the ciphertext and its 16-byte tag. On success the
  /// first `length − 16` bytes are the plaintext; on failure (a wrong tag, a length under 16)
  /// false, and the bytes are not to be used (decryption ran before the tag was checked).
  public func open(
    _ data: UnsafeMutableRawPointer, length: Int, counter: UInt64,
    additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
  ) -> Bool {
    setNonce(counter: counter)
    return crypt(data, length: length, nonce: nonce, additionalData: additionalData, encrypt: false)
  }

  /// `seal` over a buffer: the plaintext is its first `plaintextCount` bytes, and the buffer
  /// holds at least `plaintextCount + 16`.
  public func seal(
    _ buffer: UnsafeMutableRawBufferPointer, plaintextCount: Int, counter: UInt64,
    additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
  ) -> Bool {
    guard plaintextCount >= 0, buffer.count >= plaintextCount + Self.tagSize,
      let base = buffer.baseAddress
    else { return false }
    return seal(base, length: plaintextCount, counter: counter, additionalData: additionalData)
  }

  /// `open` over a buffer holding exactly the ciphertext and its tag.
  public func open(
    _ buffer: UnsafeMutableRawBufferPointer, counter: UInt64,
    additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
  ) -> Bool {
    guard let base = buffer.baseAddress else { return false }
    return open(base, length: buffer.count, counter: counter, additionalData: additionalData)
  }

  /// Either direction with an arbitrary 12-byte nonce (the RFC 8439 vectors use nonces
  /// that are not of the protocol's form). For decryption `length` includes the tag.
  func crypt(
    _ data: UnsafeMutableRawPointer, length: Int, nonce: UnsafePointer<UInt8>,
    additionalData: UnsafeRawBufferPointer, encrypt: Bool
  ) -> Bool {
    let textLength = encrypt ? length : length - Self.tagSize
    guard textLength >= 0, textLength <= Int(Int32.max) - Self.tagSize,
      additionalData.count <= Int(Int32.max)
    else { return false }
    let bytes = data.assumingMemoryBound(to: UInt8.self)
    guard EVP_CipherInit_ex(context, nil, nil, nil, nonce, encrypt ? 1 : 0) == 1 else {
      return false
    }
    var written: Int32 = 0
    if !encrypt {
      let tag = data + textLength
      guard
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagSize), tag) == 1
      else { return false }
    }
    if let additional = additionalData.baseAddress, additionalData.count > 0 {
      guard
        EVP_CipherUpdate(
          context, nil, &written, additional.assumingMemoryBound(to: UInt8.self),
          Int32(additionalData.count)) == 1
      else { return false }
    }
    if textLength > 0 {
      guard EVP_CipherUpdate(context, bytes, &written, bytes, Int32(textLength)) == 1 else {
        return false
      }
    }
    guard EVP_CipherFinal_ex(context, bytes + textLength, &written) == 1 else { return false }
    if encrypt {
      return EVP_CIPHER_CTX_ctrl(
        context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagSize), data + textLength) == 1
    }
    return true
  }

  private func setNonce(counter: UInt64) {
    // Bytes 0…3 stay zero from init; bytes 4…11 are the counter, little-endian.
    var value = counter
    for index in 4..<12 {
      nonce[index] = UInt8(truncatingIfNeeded: value)
      value >>= 8
    }
  }
}

/// Stated, so that no later conformance makes a key object cross threads.
@available(*, unavailable, message: "one context per thread: make another from the SecretKey")
extension ChaCha20Poly1305Key: Sendable {}

extension ChaCha20Poly1305Key {
  /// Handshake convenience (allocates): seals `plaintext` under counter 0 and returns the
  /// ciphertext with its tag.
  func sealed(_ plaintext: [UInt8], additionalData: [UInt8], counter: UInt64 = 0) -> [UInt8] {
    var buffer = plaintext + [UInt8](repeating: 0, count: Self.tagSize)
    let ok = buffer.withUnsafeMutableBytes { buffer in
      additionalData.withUnsafeBytes {
        seal(buffer, plaintextCount: plaintext.count, counter: counter, additionalData: $0)
      }
    }
    precondition(ok, "ChaCha20-Poly1305 seal failed")
    return buffer
  }

  /// Handshake convenience (allocates): the plaintext, or nil when the tag does not match.
  func opened(_ ciphertext: [UInt8], additionalData: [UInt8], counter: UInt64 = 0) -> [UInt8]? {
    var buffer = ciphertext
    let ok = buffer.withUnsafeMutableBytes { buffer in
      additionalData.withUnsafeBytes { open(buffer, counter: counter, additionalData: $0) }
    }
    guard ok else {
      wipe(&buffer)
      return nil
    }
    buffer.removeLast(Self.tagSize)
    return buffer
  }
}
