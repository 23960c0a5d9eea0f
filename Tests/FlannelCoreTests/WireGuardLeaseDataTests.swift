import FlannelCore
import Testing

@Suite struct WireGuardLeaseDataTests {
  static let keyText = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
  static let key = WireGuardKey(base64: keyText)!

  @Test func writesStocksBytesInsideALease() throws {
    let data = WireGuardLeaseData(publicKey: Self.key, port: 51820)
    #expect(data.json.serialized() == #"{"PublicKey":"\#(Self.keyText)","Port":51820}"#)
    let lease = LeaseAttrs(
      publicIP: IPv4Address("10.0.0.2")!, backendType: "wireguard", backendData: data.json)
    #expect(
      lease.json(style: .head)
        == #"{"PublicIP":"10.0.0.2","PublicIPv6":null,"BackendType":"wireguard","BackendData":{"PublicKey":"\#(Self.keyText)","Port":51820}}"#
    )
    #expect(
      try WireGuardLeaseData(backendData: LeaseAttrs.decode(lease.json(style: .head)).backendData)
        == data)
  }

  @Test(
    arguments: [
      (#"{"PublicKey":"\#(keyText)","Port":51821}"#, 51821),
      (#"{"publickey":"\#(keyText)","port":1}"#, 1),
      (#"{"PublicKey":"\#(keyText)"}"#, nil),  // older stock: no Port
      (#"{"PublicKey":"\#(keyText)","Port":0}"#, nil),  // stock reads 0 as "use your own"
      (#"{"PublicKey":"\#(keyText)","Port":null,"Extra":true}"#, nil),
    ] as [(String, UInt16?)])
  func readsPortOrNone(json: String, port: UInt16?) throws {
    let data = try WireGuardLeaseData(backendData: JSONValue.parse(json))
    #expect(data.publicKey == Self.key)
    #expect(data.port == port)
  }

  /// Stock's BackendData struct has `Port uint16` without omitempty: Go always writes it, 0
  /// when unknown (which every reader takes as "use your own port").
  @Test func writesPortZeroWhenUnknown() {
    #expect(
      WireGuardLeaseData(publicKey: Self.key, port: nil).json.serialized()
        == #"{"PublicKey":"\#(Self.keyText)","Port":0}"#)
  }

  @Test(
    arguments: [
      (nil, "BackendData", "wireguard lease has no BackendData"),
      ("null", "BackendData", "wireguard lease has no BackendData"),
      (#"["x"]"#, "BackendData", "wireguard lease BackendData must be a JSON object"),
      (#"{"Port":51820}"#, "BackendData.PublicKey", "wireguard lease BackendData has no PublicKey"),
      (
        #"{"PublicKey":"abc","Port":51820}"#, "BackendData.PublicKey",
        #"wireguard lease PublicKey "abc" is not the base64 text of a 32-byte key"#
      ),
      (#"{"PublicKey":7}"#, "BackendData.PublicKey", "wireguard lease PublicKey 7 is not"),
      (
        #"{"PublicKey":"\#(keyText)","Port":70000}"#, "BackendData.Port",
        "wireguard lease Port 70000 is not a UDP port"
      ),
      (
        #"{"PublicKey":"\#(keyText)","Port":"51820"}"#, "BackendData.Port",
        #"wireguard lease Port "51820""#
      ),
    ] as [(String?, String, String)])
  func refusesBadDataNamingTheField(json: String?, field: String, messagePrefix: String) throws {
    let value = try json.map { try JSONValue.parse($0) }
    #expect {
      try WireGuardLeaseData(backendData: value)
    } throws: { error in
      let error = error as? WireGuardConfigError
      return error?.field == field && error?.description.hasPrefix(messagePrefix) == true
    }
  }
}
