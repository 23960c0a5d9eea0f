import CCrypto

/// HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): the ChaCha20 state set up with the key and a
/// 16-byte nonce in place of counter and nonce, 20 rounds, and words 0…3 and 12…15 of the
/// result (no final addition) as a 32-byte subkey. XChaCha20 uses it to stretch the nonce.
enum HChaCha20 {
  /// The subkey for `key` (32 bytes) and `nonce` (16 bytes).
  static func subkey(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer) -> [UInt8] {
    precondition(
      key.count == 32 && nonce.count == 16, "HChaCha20 takes a 32-byte key, 16-byte nonce")
    var state: [UInt32] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]
    for word in 0..<8 { state.append(littleEndianWord(key, at: word * 4)) }
    for word in 0..<4 { state.append(littleEndianWord(nonce, at: word * 4)) }
    for _ in 0..<10 {
      quarterRound(&state, 0, 4, 8, 12)
      quarterRound(&state, 1, 5, 9, 13)
      quarterRound(&state, 2, 6, 10, 14)
      quarterRound(&state, 3, 7, 11, 15)
      quarterRound(&state, 0, 5, 10, 15)
      quarterRound(&state, 1, 6, 11, 12)
      quarterRound(&state, 2, 7, 8, 13)
      quarterRound(&state, 3, 4, 9, 14)
    }
    var out: [UInt8] = []
    out.reserveCapacity(32)
    for word in [0, 1, 2, 3, 12, 13, 14, 15] {
      for shift in stride(from: 0, to: 32, by: 8) {
        out.append(UInt8(truncatingIfNeeded: state[word] >> UInt32(shift)))
      }
    }
    // The state holds key-derived words: cleared through OPENSSL_cleanse, which the
    // optimiser may not drop as it may drop plain stores to memory about to be freed.
    state.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    return out
  }

  /// The ChaCha quarter round (RFC 8439 §2.1) on four words of `state`.
  static func quarterRound(_ state: inout [UInt32], _ a: Int, _ b: Int, _ c: Int, _ d: Int) {
    state[a] &+= state[b]
    state[d] = rotateLeft(state[d] ^ state[a], 16)
    state[c] &+= state[d]
    state[b] = rotateLeft(state[b] ^ state[c], 12)
    state[a] &+= state[b]
    state[d] = rotateLeft(state[d] ^ state[a], 8)
    state[c] &+= state[d]
    state[b] = rotateLeft(state[b] ^ state[c], 7)
  }

  private static func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 {
    value << count | value >> (32 - count)
  }

  private static func littleEndianWord(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
      | UInt32(bytes[offset + 3]) << 24
  }
}
