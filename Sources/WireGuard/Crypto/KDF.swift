/// The protocol's key derivation (HKDF, RFC 5869, over HMAC-BLAKE2s): KDF_n(key, input)
/// gives n 32-byte outputs τ1…τn with τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1) and
/// τi = HMAC(τ0, τ(i−1) || i).
enum KDF {
  static func derive(_ count: Int, key: [UInt8], input: [UInt8]) -> [[UInt8]] {
    precondition((1...3).contains(count), "the protocol derives 1, 2 or 3 keys")
    var pseudorandomKey = Blake2s.hmac(key: key, input)
    defer { wipe(&pseudorandomKey) }
    var outputs: [[UInt8]] = []
    var previous: [UInt8] = []
    for index in 1...count {
      previous = Blake2s.hmac(key: pseudorandomKey, previous, [UInt8(index)])
      outputs.append(previous)
    }
    return outputs
  }

  static func kdf1(key: [UInt8], input: [UInt8]) -> [UInt8] {
    derive(1, key: key, input: input)[0]
  }

  static func kdf2(key: [UInt8], input: [UInt8]) -> ([UInt8], [UInt8]) {
    let outputs = derive(2, key: key, input: input)
    return (outputs[0], outputs[1])
  }

  static func kdf3(key: [UInt8], input: [UInt8]) -> ([UInt8], [UInt8], [UInt8]) {
    let outputs = derive(3, key: key, input: input)
    return (outputs[0], outputs[1], outputs[2])
  }
}
