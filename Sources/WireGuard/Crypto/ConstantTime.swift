import CCrypto

/// Equality whose running time depends only on the lengths, never on where the bytes differ
/// (for MACs and keys).
func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
  guard a.count == b.count else { return false }
  if a.isEmpty { return true }
  return CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
}

/// Array form of `constantTimeEqual`.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
  a.withUnsafeBytes { a in b.withUnsafeBytes { b in constantTimeEqual(a, b) } }
}

/// Whether every byte is zero, reading all of them whatever their values.
func constantTimeIsZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
  var accumulated: UInt8 = 0
  for byte in bytes { accumulated |= byte }
  return accumulated == 0
}
