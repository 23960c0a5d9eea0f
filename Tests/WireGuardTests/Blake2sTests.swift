import Testing

@testable import WireGuard

@Suite struct Blake2sTests {
  @Test func rfc7693AppendixBHashOfABC() {
    // RFC 7693 Appendix B: BLAKE2s-256("abc").
    #expect(
      Blake2s.hash(Array("abc".utf8))
        == hex("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"))
    // The same input split across parts hashes the same.
    #expect(Blake2s.hash([0x61], [], [0x62, 0x63]) == Blake2s.hash(Array("abc".utf8)))
  }

  // (key, message, 16-byte MAC). Expected values computed once with Python 3's
  // hashlib.blake2s(message, key=key, digest_size=16) (the output length is a BLAKE2
  // parameter, so the official 32-byte KAT does not cover it).
  static let macVectors: [([UInt8], [UInt8], String)] = [
    (Array(UInt8(0)..<32), Array("abc".utf8), "61ba5f165c194692e09d12520cc4c74a"),
    (Array(UInt8(0)..<16), [], "af4e5d3bb230e9ff9096ca6f7c501f76"),
    (Array(UInt8(0)..<32), Array(UInt8(0)..<100), "0b67d33f8b859c3157fbabd9e6e47ed0"),
  ]

  @Test(arguments: 0..<3) func keyedMAC128(_ index: Int) {
    let (key, message, expected) = Self.macVectors[index]
    #expect(Blake2s.mac(key: key, message) == hex(expected))
  }

  // (key, message, HMAC). Expected values computed once with Python 3's
  // hmac.new(key, message, hashlib.blake2s).
  static let hmacVectors: [([UInt8], [UInt8], String)] = [
    (
      Array(UInt8(0)..<32), Array("abc".utf8),
      "82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f"
    ),
    ([], [], "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd"),
    (
      // A key longer than the 64-byte block is hashed first.
      Array(UInt8(0)..<100), Array("The quick brown fox".utf8),
      "421d0172d264b9c8e3bc443c2320b3d80cd439818d0e3de239bed6fc1f2d5f85"
    ),
  ]

  @Test(arguments: 0..<3) func hmac(_ index: Int) {
    let (key, message, expected) = Self.hmacVectors[index]
    #expect(Blake2s.hmac(key: key, message) == hex(expected))
  }

  @Test func kdfFollowsHKDFOverHMAC() {
    // KDF_n as the whitepaper defines it, spelled out with HMAC: τ0 = HMAC(key, input),
    // τ1 = HMAC(τ0, 0x1), τi = HMAC(τ0, τ(i−1) || i).
    let key = Array(UInt8(0)..<32)
    let input = Array("input".utf8)
    let t0 = Blake2s.hmac(key: key, input)
    let t1 = Blake2s.hmac(key: t0, [1])
    let t2 = Blake2s.hmac(key: t0, t1 + [2])
    let t3 = Blake2s.hmac(key: t0, t2 + [3])
    #expect(KDF.kdf1(key: key, input: input) == t1)
    let (a, b) = KDF.kdf2(key: key, input: input)
    #expect([a, b] == [t1, t2])
    let (c, d, e) = KDF.kdf3(key: key, input: input)
    #expect([c, d, e] == [t1, t2, t3])
    #expect(Set([t1, t2, t3]).count == 3)
  }
}
