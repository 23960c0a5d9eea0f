import Testing

@testable import WireGuard

@Suite struct X25519Tests {
  // RFC 7748 §5.2: (scalar, u-coordinate, output).
  static let vectors: [(String, String, String)] = [
    (
      "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
      "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
    ),
    (
      "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
      "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
      "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"
    ),
  ]

  @Test(arguments: 0..<2) func rfc7748ScalarMultiplication(_ index: Int) throws {
    let (scalar, u, output) = Self.vectors[index]
    let shared = X25519.sharedSecret(
      try SecretKey(bytes: hex(scalar)), try PublicKey(bytes: hex(u)))
    #expect(shared?.withUnsafeBytes { Array($0) } == hex(output))
  }

  // RFC 7748 §6.1: Alice's and Bob's keys and their shared secret.
  static let alicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
  static let alicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
  static let bobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
  static let bobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
  static let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

  @Test func rfc7748AliceAndBob() throws {
    let alice = try SecretKey(bytes: hex(Self.alicePrivate))
    let bob = try SecretKey(bytes: hex(Self.bobPrivate))
    #expect(X25519.publicKey(of: alice).bytes == hex(Self.alicePublic))
    #expect(X25519.publicKey(of: bob).bytes == hex(Self.bobPublic))
    let aliceSide = X25519.sharedSecret(alice, try PublicKey(bytes: hex(Self.bobPublic)))
    let bobSide = X25519.sharedSecret(bob, try PublicKey(bytes: hex(Self.alicePublic)))
    #expect(aliceSide?.withUnsafeBytes { Array($0) } == hex(Self.shared))
    #expect(bobSide?.withUnsafeBytes { Array($0) } == hex(Self.shared))
  }

  @Test func lowOrderPublicKeysGiveNoSharedSecret() throws {
    let alice = try SecretKey(bytes: hex(Self.alicePrivate))
    // u = 0 and u = 1 are points of small order: every scalar multiple is all zero.
    for u in [[UInt8](repeating: 0, count: 32), [1] + [UInt8](repeating: 0, count: 31)] {
      #expect(X25519.sharedSecret(alice, try PublicKey(bytes: u)) == nil)
    }
  }

  @Test func newPrivateKeysAreClampedAndDiffer() throws {
    let first = try X25519.newPrivateKey()
    let second = try X25519.newPrivateKey()
    for key in [first, second] {
      key.withUnsafeBytes { bytes in
        #expect(bytes[0] & 7 == 0)
        #expect(bytes[31] & 0x80 == 0)
        #expect(bytes[31] & 0x40 == 0x40)
      }
    }
    #expect(!first.isEqual(to: second))
    #expect(X25519.publicKey(of: first) != X25519.publicKey(of: second))
  }
}
