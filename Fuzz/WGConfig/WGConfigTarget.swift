@testable import FlannelCore

/// The wireguard backend's Backend object (`WireGuardBackendConfig`), lease BackendData
/// (`WireGuardLeaseData`) and key text (`WireGuardKey`) on arbitrary bytes and generated
/// values: a config that parses, written back with every field, parses to the same config; a
/// BackendData that decodes re-encodes to one that decodes the same; key text that parses is
/// the canonical base64 of its bytes up to newlines and the unused low bits; generated keys
/// round trip, also inside a key file with a newline.
enum WGConfigTarget: ParserTarget {
  static let name = "wgconfig"
  static let requiredChecks = [
    "config round trip", "refused config names a field", "lease data round trip",
    "refused lease data names a field", "parsed key text", "generated key round trip",
    "generated config round trip",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    if let value = try? JSONValue.parse(raw) {
      checkConfig(value)
      checkLeaseData(value)
    }
    checkKeyText(raw)
    var input = FuzzInput(bytes)
    generatedKey(&input)
    generatedConfig(&input)
  }

  static func checkConfig(_ value: JSONValue) {
    do throws(WireGuardConfigError) {
      let config = try WireGuardBackendConfig(BackendConfig(type: "wireguard", raw: value))
      let written = serialized(config)
      let reread = try? WireGuardBackendConfig(
        BackendConfig(type: "wireguard", raw: JSONValue.parse(written)))
      require(
        reread == config,
        "config \(config) written as \(written) reads as \(String(describing: reread))")
      require(config.listenPort > 0 && config.listenPortV6 > 0, "port 0 accepted")
      require((0...65535).contains(config.persistentKeepaliveInterval), "keepalive out of range")
      require(config.mtu.map { $0 > 80 } ?? true, "MTU without room for the overhead")
      Checks.count("config round trip")
    } catch {
      require(
        ["ListenPort", "ListenPortV6", "PSK", "PersistentKeepaliveInterval", "Mode", "MTU"]
          .contains(error.field) && error.description.contains("Backend." + error.field),
        "refusal names no known field: \(error.field): \(error.description)")
      Checks.count("refused config names a field")
    }
  }

  static func serialized(_ config: WireGuardBackendConfig) -> String {
    var members = [
      JSONMember("Type", .string("wireguard")),
      JSONMember("ListenPort", .int(Int64(config.listenPort))),
      JSONMember("ListenPortV6", .int(Int64(config.listenPortV6))),
      JSONMember("PersistentKeepaliveInterval", .int(Int64(config.persistentKeepaliveInterval))),
      JSONMember("Mode", .string(config.mode.rawValue)),
    ]
    if let psk = config.psk { members.append(JSONMember("PSK", .string(psk.base64))) }
    if let mtu = config.mtu { members.append(JSONMember("MTU", .int(Int64(mtu)))) }
    return JSONValue.object(members).serialized()
  }

  static func checkLeaseData(_ value: JSONValue) {
    do throws(WireGuardConfigError) {
      let data = try WireGuardLeaseData(backendData: value)
      require(data.port != 0, "port 0 kept")
      let again = try? WireGuardLeaseData(backendData: JSONValue.parse(data.json.serialized()))
      require(again == data, "lease data \(data) does not round trip")
      Checks.count("lease data round trip")
    } catch {
      require(
        ["BackendData", "BackendData.PublicKey", "BackendData.Port"].contains(error.field),
        "lease data refusal names no field: \(error.field)")
      Checks.count("refused lease data names a field")
    }
  }

  static func checkKeyText(_ raw: String) {
    guard let key = WireGuardKey(base64: raw) else { return }
    require(key.bytes.count == 32, "key of \(key.bytes.count) bytes")
    let stripped = Array(raw.utf8.filter { $0 != 0x0d && $0 != 0x0a })
    let canonical = Array(key.base64.utf8)
    require(
      stripped.count == 44 && stripped[..<42] == canonical[..<42] && stripped[43] == canonical[43],
      "key text \(raw) is not its bytes' base64 \(key.base64)")
    require(
      WireGuardKey(base64: key.base64) == key
        && (try? WireGuardKey.parsePrivateKeyFile(raw)) == key,
      "key \(raw) does not read back")
    Checks.count("parsed key text")
  }

  static func generatedKey(_ input: inout FuzzInput) {
    let bytes = (0..<32).map { _ in input.byte() }
    guard let key = WireGuardKey(bytes: bytes) else {
      fatalError("property failed: 32 bytes refused as a key")
    }
    let text = key.base64
    require(text.utf8.count == 44 && text.hasSuffix("=") && !text.hasSuffix("=="), "base64 \(text)")
    require(WireGuardKey(base64: text)?.bytes == bytes, "\(text) does not read back")
    require(
      (try? WireGuardKey.parsePrivateKeyFile(text + "\n"))?.bytes == bytes, "key file \(text)")
    let data = WireGuardLeaseData(publicKey: key, port: input.u16())
    require(
      (try? WireGuardLeaseData(backendData: JSONValue.parse(data.json.serialized()))) == data,
      "generated lease data \(data.json.serialized()) does not round trip")
    Checks.count("generated key round trip")
  }

  static func generatedConfig(_ input: inout FuzzInput) {
    let config = WireGuardBackendConfig(
      listenPort: max(1, input.u16()), listenPortV6: max(1, input.u16()),
      psk: input.bool() ? WireGuardKey(bytes: (0..<32).map { _ in input.byte() }) : nil,
      persistentKeepaliveInterval: Int(input.u16()),
      mode: WireGuardBackendConfig.Mode.allCases[Int(input.byte()) % 4],
      mtu: input.bool() ? 81 + Int(input.u16()) % (65535 - 80) : nil)
    let written = serialized(config)
    let reread = try? WireGuardBackendConfig(
      BackendConfig(type: "wireguard", raw: JSONValue.parse(written)))
    require(reread == config, "generated config \(written) reads as \(String(describing: reread))")
    Checks.count("generated config round trip")
  }
}
