import Testing

@testable import WireGuard

@Suite struct XChaCha20Poly1305Tests {
  @Test func rfc8439QuarterRound() {
    // RFC 8439 §2.1.1.
    var state: [UInt32] = [0x1111_1111, 0x0102_0304, 0x9b8d_6f43, 0x0123_4567]
    HChaCha20.quarterRound(&state, 0, 1, 2, 3)
    #expect(state == [0xea2a_92f4, 0xcb1c_f8ce, 0x4581_472e, 0x5881_c4bb])
  }

  @Test func hchacha20Vector() {
    // draft-irtf-cfrg-xchacha-03 §2.2.1.
    let key = Array(UInt8(0)..<32)
    let nonce = hex("00:00:00:09:00:00:00:4a:00:00:00:00:31:41:59:27")
    let subkey = key.withUnsafeBytes { key in
      nonce.withUnsafeBytes { HChaCha20.subkey(key: key, nonce: $0) }
    }
    #expect(
      subkey == hex("82413b42 27b27bfe d30e4250 8a877d73 a0f9e4d5 8a74a853 c12ec413 26d3ecdc"))
  }

  // draft-irtf-cfrg-xchacha-03 Appendix A.3.1.
  static let plaintext = Array(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
      .utf8)
  static let aad = hex("50515253c0c1c2c3c4c5c6c7")
  static let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
  static let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
  static let ciphertext = hex(
    """
    bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
    731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
    2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
    21f9664c97637da9768812f615c68b13b52e
    """)
  static let tag = hex("c0875924c1c7987947deafd8780acf49")

  @Test func aeadVectorSealsAndOpens() throws {
    let key = try SecretKey(bytes: Self.key)
    let sealed = XChaCha20Poly1305.seal(
      key: key, nonce: Self.nonce, plaintext: Self.plaintext, additionalData: Self.aad)
    #expect(sealed == Self.ciphertext + Self.tag)
    let opened = XChaCha20Poly1305.open(
      key: key, nonce: Self.nonce, ciphertext: sealed, additionalData: Self.aad)
    #expect(opened == Self.plaintext)
    var tampered = sealed
    tampered[5] ^= 0x80
    #expect(
      XChaCha20Poly1305.open(
        key: key, nonce: Self.nonce, ciphertext: tampered, additionalData: Self.aad) == nil)
    #expect(
      XChaCha20Poly1305.open(key: key, nonce: Self.nonce, ciphertext: sealed, additionalData: [])
        == nil)
  }
}
