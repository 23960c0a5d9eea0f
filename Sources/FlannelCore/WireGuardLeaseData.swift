/// The BackendData of a wireguard lease (flannel-behaviour §6b): `{"PublicKey":"<base64>",
/// "Port":N}`, in stock's field order. Leases of older stock releases carry no Port; stock
/// then uses its own listen port, which `port == nil` tells the backend to do (a Port of 0
/// reads the same way, as stock treats it).
public struct WireGuardLeaseData: Sendable, Equatable {
  public var publicKey: WireGuardKey
  /// The peer's listen port; nil: not in the lease (use ours).
  public var port: UInt16?

  public init(publicKey: WireGuardKey, port: UInt16?) {
    self.publicKey = publicKey
    self.port = port == 0 ? nil : port
  }

  /// Reads a lease's BackendData (nil when the lease has none).
  public init(backendData: JSONValue?) throws(WireGuardConfigError) {
    guard let data = backendData, !data.isNull else {
      throw WireGuardConfigError(
        field: "BackendData",
        "wireguard lease has no BackendData: expected {\"PublicKey\":\"<base64>\",\"Port\":N}")
    }
    guard case .object = data else {
      throw WireGuardConfigError(
        field: "BackendData",
        "wireguard lease BackendData must be a JSON object {\"PublicKey\":\"<base64>\","
          + "\"Port\":N}, not \(data.kindName)")
    }
    guard let keyValue = data[caseInsensitive: "PublicKey"], !keyValue.isNull else {
      throw WireGuardConfigError(
        field: "BackendData.PublicKey", "wireguard lease BackendData has no PublicKey")
    }
    guard let text = keyValue.stringValue, let key = WireGuardKey(base64: text) else {
      throw WireGuardConfigError(
        field: "BackendData.PublicKey",
        "wireguard lease PublicKey \(keyValue.serialized()) is not the base64 text of a "
          + "32-byte key (as `wg pubkey` prints)")
    }
    var port: UInt16?
    if let portValue = data[caseInsensitive: "Port"], !portValue.isNull {
      guard let number = portValue.int64Value, (0...65535).contains(number) else {
        throw WireGuardConfigError(
          field: "BackendData.Port",
          "wireguard lease Port \(portValue.serialized()) is not a UDP port (an integer from "
            + "0 to 65535)")
      }
      port = UInt16(number)
    }
    self.init(publicKey: key, port: port)
  }

  /// The BackendData to publish, as stock's Go struct encodes: PublicKey, then Port (always
  /// present; 0 when unknown, which readers take as "use your own port").
  public var json: JSONValue {
    .object([
      JSONMember("PublicKey", .string(publicKey.base64)),
      JSONMember("Port", .int(Int64(port ?? 0))),
    ])
  }
}
