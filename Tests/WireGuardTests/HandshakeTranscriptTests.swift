import Testing

@testable import WireGuard

/// The handshake's bytes against a second reading of the protocol: the expected values come
/// from Scripts/wireguard-handshake-reference.py (Python's hashlib/hmac and the
/// `cryptography` package, written from the whitepaper), run once for the fixture's keys,
/// ephemerals, indices and timestamp, without and with a preshared key of 32 × 0xab.
@Suite struct HandshakeTranscriptTests {
  struct Transcript: Sendable {
    let psk: String?
    let initiation: String
    let response: String
    let initiatorSending: String
    let initiatorReceiving: String
  }

  static let transcripts = [
    Transcript(
      psk: nil,
      initiation: """
        0100000044332211f4f06e5ef98931e60369a9b31e1977be1176b6eb62a35ce2bfa063bda177583e89c1
        57a6df02082c2918e65b110dbf7dd61c9310e5adad9b08381230b863b9a9fcde672df56c6c1bd16b0921
        9d1a7bdedb1798997ecce4a3b7e7297d0f36c96799bee0ec347b1a3d76e493353fa798ed627190033582
        717f2580991c00000000000000000000000000000000
        """,
      response: """
        0200000088776655443322111cfd2b38b0b6bd63c11ef3204f5bb4f6a80097025619207ab57d04ded5b0
        e91fe4154cbfb0c8a559e75cabb7b5e08f5b269b31f2282901a6efb54b18f2ee27810000000000000000
        0000000000000000
        """,
      initiatorSending: "af9612abe9bcceb644625ae299a2b67736c3626cde91a6ec81e47d508312efcd",
      initiatorReceiving: "82572695914b52d0335d0742b013f88b1e8fffd8aaf2b87f4fc968cc92c6878b"),
    Transcript(
      psk: String(repeating: "ab", count: 32),
      initiation: """
        0100000044332211f4f06e5ef98931e60369a9b31e1977be1176b6eb62a35ce2bfa063bda177583e89c1
        57a6df02082c2918e65b110dbf7dd61c9310e5adad9b08381230b863b9a9fcde672df56c6c1bd16b0921
        9d1a7bdedb1798997ecce4a3b7e7297d0f36c96799bee0ec347b1a3d76e493353fa798ed627190033582
        717f2580991c00000000000000000000000000000000
        """,
      response: """
        0200000088776655443322111cfd2b38b0b6bd63c11ef3204f5bb4f6a80097025619207ab57d04ded5b0
        e91f2526999cbbca50329dde13d56345a0734235b4d0f4cf19fbcca15baf818d90630000000000000000
        0000000000000000
        """,
      initiatorSending: "3e8be4519e6d948672a342263dd06295e9b3d22bd31b86439924b18729cd6db2",
      initiatorReceiving: "14a019dd42acd78f8e33e0aa879db8a73629dfb5fc01c8b9e8cc89e0cc3607ff"),
  ]

  @Test(arguments: transcripts) func messagesAndKeysMatchTheReference(_ expected: Transcript)
    throws
  {
    let psk = expected.psk.map { HandshakeFixture.key($0) }
    let fixture = try HandshakeFixture(initiatorPSK: psk, responderPSK: psk)
    let initiation = try HandshakeFixture.initiation(from: fixture.initiator)
    #expect(hexString(initiation) == hexString(hex(expected.initiation)))
    try fixture.responder.consumeInitiation(
      try HandshakeFixture.decrypt(initiation, by: fixture.responderIdentity), now: .seconds(1000))
    let (response, responderKeys) = try HandshakeFixture.response(from: fixture.responder)
    #expect(hexString(response) == hexString(hex(expected.response)))
    let initiatorKeys = try HandshakeFixture.consume(response, by: fixture.initiator)
    #expect(hexString(keyBytes(initiatorKeys.sendingKey)) == expected.initiatorSending)
    #expect(hexString(keyBytes(initiatorKeys.receivingKey)) == expected.initiatorReceiving)
    #expect(hexString(keyBytes(responderKeys.sendingKey)) == expected.initiatorReceiving)
  }
}
