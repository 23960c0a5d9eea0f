import FlannelCore
import Testing

@Suite struct WireGuardBackendConfigTests {
  static let psk = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

  static func config(_ json: String) throws -> WireGuardBackendConfig {
    try WireGuardBackendConfig(BackendConfig(type: "wireguard", raw: try JSONValue.parse(json)))
  }

  @Test func defaultsAreStocks() throws {
    let config = try Self.config(#"{"Type":"wireguard"}"#)
    #expect(config == WireGuardBackendConfig())
    #expect(config.listenPort == 51820 && config.listenPortV6 == 51821)
    #expect(config.psk == nil && config.persistentKeepaliveInterval == 0)
    #expect(config.mode == .separate && config.mtu == nil)
    #expect(config.deviceMTU(externalMTU: 1500) == 1420)
  }

  @Test(arguments: [
    (
      #"{"Type":"wireguard","ListenPort":51000,"ListenPortV6":51001,"PSK":"\#(psk)","#
        + #""PersistentKeepaliveInterval":25,"Mode":"auto","MTU":9000}"#,
      WireGuardBackendConfig(
        listenPort: 51000, listenPortV6: 51001, psk: WireGuardKey(base64: psk),
        persistentKeepaliveInterval: 25, mode: .auto, mtu: 9000)
    ),
    (
      #"{"listenport":1,"psk":"","persistentkeepaliveinterval":0,"mode":"ipv6"}"#,
      WireGuardBackendConfig(listenPort: 1, mode: .ipv6)
    ),
    (
      #"{"ListenPort":null,"PSK":null,"Mode":null,"MTU":null}"#, WireGuardBackendConfig()
    ),
    (
      #"{"Mode":"ipv4","ListenPortV6":65535}"#,
      WireGuardBackendConfig(listenPortV6: 65535, mode: .ipv4)
    ),
  ])
  func readsEveryField(json: String, expected: WireGuardBackendConfig) throws {
    #expect(try Self.config(json) == expected)
  }

  @Test(arguments: [
    (#"{"ListenPort":0}"#, "ListenPort", "Backend.ListenPort 0 out of range: use a UDP port"),
    (#"{"ListenPortV6":65536}"#, "ListenPortV6", "Backend.ListenPortV6 65536 out of range"),
    (
      #"{"ListenPort":"51820"}"#, "ListenPort",
      #"Backend.ListenPort is "51820" (string); write a whole number without quotes"#
    ),
    (#"{"ListenPort":5.5}"#, "ListenPort", "Backend.ListenPort is 5.5 (number); write a whole"),
    (
      #"{"ListenPort":5182E1}"#, "ListenPort",
      "Backend.ListenPort is written with a fraction or an exponent; write it as the whole number 51820"
    ),
    (#"{"PSK":"secret"}"#, "PSK", "could not parse psk: Backend.PSK must be the base64 text"),
    (#"{"PSK":42}"#, "PSK", "Backend.PSK is 42 (number); write a string in double quotes"),
    (#"{"Mode":true}"#, "Mode", "Backend.Mode is true (bool); write a string in double quotes"),
    (
      #"{"PersistentKeepaliveInterval":-1}"#, "PersistentKeepaliveInterval",
      "Backend.PersistentKeepaliveInterval -1 out of range: use seconds from 1 to 65535, or 0"
    ),
    (
      #"{"PersistentKeepaliveInterval":65536}"#, "PersistentKeepaliveInterval",
      "Backend.PersistentKeepaliveInterval 65536 out of range"
    ),
    (
      #"{"Mode":"Separate"}"#, "Mode",
      #"no valid Mode configured: Backend.Mode "Separate" is not one of "separate", "auto", "ipv4", "ipv6""#
    ),
    (#"{"Mode":""}"#, "Mode", #"no valid Mode configured: Backend.Mode """#),
    (
      #"{"MTU":80}"#, "MTU",
      "Backend.MTU 80 out of range: the device gets MTU − 80, so use 81–65535"
    ),
  ])
  func refusesBadFieldsNamingThem(json: String, field: String, messagePrefix: String) {
    #expect {
      try Self.config(json)
    } throws: { error in
      let error = error as? WireGuardConfigError
      return error?.field == field && error?.description.hasPrefix(messagePrefix) == true
    }
  }
}
