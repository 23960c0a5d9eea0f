import Testing
import WireGuard

@Suite struct TransportPaddingTests {
  @Test(arguments: [
    // (plaintext, mtu, padding)
    (0, 1420, 0),  // keepalive
    (1, 1420, 15),
    (15, 1420, 1),
    (16, 1420, 0),
    (17, 1420, 15),
    (84, 1420, 12),  // a 64-byte ping: 20 + 8 + 56
    (1408, 1420, 0),
    (1409, 1420, 11),  // the next multiple, 1424, is past the MTU: stop at 1420
    (1419, 1420, 1),
    (1420, 1420, 0),
    (1419, 1419, 0),
    (100, 0, 12),  // no MTU known: the multiple alone
    (2840 + 5, 1420, 11),  // a super-packet measured whole: its last unit, 5 bytes, to 16
    (2840, 1420, 0),
  ])
  func padsToSixteenWithinTheMTU(plaintext: Int, mtu: Int, padding: Int) {
    #expect(TransportPadding.paddingLength(plaintextLength: plaintext, mtu: mtu) == padding)
  }

  @Test func datagramLengthAddsHeaderAndTag() {
    #expect(TransportPadding.datagramLength(plaintextLength: 0, mtu: 1420) == 32)
    #expect(TransportPadding.datagramLength(plaintextLength: 84, mtu: 1420) == 128)
    #expect(TransportPadding.datagramLength(plaintextLength: 1420, mtu: 1420) == 1452)
  }

  @Test func everyPaddedLengthIsAMultipleOfSixteenOrTheMTU() {
    for mtu in [576, 1280, 1420, 1500] {
      for length in 0...mtu {
        let padded = length + TransportPadding.paddingLength(plaintextLength: length, mtu: mtu)
        #expect(padded >= length && padded <= mtu && padded < length + 16)
        #expect(padded % 16 == 0 || padded == mtu)
      }
    }
  }
}
