import Testing

@testable import WireGuard

@Suite struct PrimitiveValueTests {
  @Test func tai64nLayoutIsBigEndianWithTheTAIBase() {
    let stamp = TAI64N(unixSeconds: 1, nanoseconds: 0x0102_0304)
    #expect(stamp.bytes == hex("400000000000000b 01020304"))
    #expect(TAI64N(bytes: stamp.bytes) == stamp)
  }

  @Test func tai64nOrdersByTimeAndByBytes() {
    let stamps = [
      TAI64N(unixSeconds: 0, nanoseconds: 5),
      TAI64N(unixSeconds: 1, nanoseconds: 0),
      TAI64N(unixSeconds: 1, nanoseconds: 0x0100_0000),
      TAI64N(unixSeconds: 1_800_000_000, nanoseconds: 0),
    ]
    for (earlier, later) in zip(stamps, stamps.dropFirst()) {
      #expect(earlier < later)
      #expect(earlier.bytes.lexicographicallyPrecedes(later.bytes))
    }
  }

  @Test func tai64nNowHidesTheLow24BitsOfNanoseconds() {
    let now = TAI64N.now()
    #expect(now.nanoseconds & 0xff_ffff == 0)
    #expect(now > TAI64N(unixSeconds: 1_700_000_000, nanoseconds: 0))
  }

  @Test func constantTimeEquality() {
    #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
    #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
    #expect(!constantTimeEqual([1, 2, 3], [1, 2]))
    #expect(constantTimeEqual([], []))
  }

  @Test func keysRoundTripThroughBase64() throws {
    // RFC 7748 §6.1 Alice's public key; base64 from Python 3's base64.b64encode.
    let key = try PublicKey(base64: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=")
    #expect(key.bytes == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
    #expect(key.base64 == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=")
    let secret = try SecretKey(base64: " \(key.base64)\n")
    #expect(secret.base64 == key.base64)
  }

  @Test(arguments: [
    ("", KeyError.wrongLength(0)),
    ("AAAA", .wrongLength(3)),
    ("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo", .notBase64),
    ("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Sp*qqbTmo=", .notBase64),
    ("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbT=o=", .notBase64),
  ])
  func badKeysAreRefused(_ text: String, _ error: KeyError) {
    #expect(throws: error) { try PublicKey(base64: text) }
  }
}
