/// The running chaining key and hash of one handshake (the Noise symmetric state), with the
/// mixing steps the protocol uses. Both are secret; `wipe()` zeroes them.
struct NoiseState {
  var chainingKey: [UInt8]
  var hash: [UInt8]

  /// Ci = HASH(CONSTRUCTION), Hi = HASH(Ci || IDENTIFIER), then H = HASH(H || responder's
  /// static public key): the state both sides start from.
  init(responderStatic: PublicKey) {
    chainingKey = NoiseConstants.initialChainingKey
    hash = Blake2s.hash(NoiseConstants.initialHash, responderStatic.bytes)
  }

  /// H = HASH(H || data).
  mutating func mixHash(_ data: [UInt8]) {
    hash = Blake2s.hash(hash, data)
  }

  /// C = KDF1(C, data).
  mutating func mixKey(_ data: [UInt8]) {
    var old = chainingKey
    chainingKey = KDF.kdf1(key: old, input: data)
    WireGuard.wipe(&old)
  }

  /// C = KDF1(C, DH(…)) for a shared secret.
  mutating func mixKey(_ secret: SecretKey) {
    var bytes = secret.withUnsafeBytes { Array($0) }
    mixKey(bytes)
    WireGuard.wipe(&bytes)
  }

  /// (C, k) = KDF2(C, DH(…)): returns the AEAD key k.
  mutating func mixKeyAndDeriveKey(_ secret: SecretKey) -> ChaCha20Poly1305Key {
    var outputs = derive(2, secret)
    defer { WireGuard.wipe(&outputs[1]) }
    return ChaCha20Poly1305Key(try! SecretKey(bytes: outputs[1]))
  }

  /// (C, τ, k) = KDF3(C, psk); H = HASH(H || τ): returns the AEAD key k.
  mutating func mixPresharedKey(_ presharedKey: SecretKey) -> ChaCha20Poly1305Key {
    var outputs = derive(3, presharedKey)
    mixHash(outputs[1])
    defer {
      WireGuard.wipe(&outputs[1])
      WireGuard.wipe(&outputs[2])
    }
    return ChaCha20Poly1305Key(try! SecretKey(bytes: outputs[2]))
  }

  /// KDF_n(C, secret) with the first output becoming the new C; all n outputs returned.
  private mutating func derive(_ count: Int, _ secret: SecretKey) -> [[UInt8]] {
    var input = secret.withUnsafeBytes { Array($0) }
    let outputs = KDF.derive(count, key: chainingKey, input: input)
    WireGuard.wipe(&input)
    WireGuard.wipe(&chainingKey)
    chainingKey = outputs[0]
    return outputs
  }

  /// (first, second) = KDF2(C, ε): the transport keys, initiator's sending key first.
  func transportKeys() -> (SecretKey, SecretKey) {
    var (first, second) = KDF.kdf2(key: chainingKey, input: [])
    defer {
      WireGuard.wipe(&first)
      WireGuard.wipe(&second)
    }
    return (try! SecretKey(bytes: first), try! SecretKey(bytes: second))
  }

  mutating func wipe() {
    WireGuard.wipe(&chainingKey)
    WireGuard.wipe(&hash)
  }
}
