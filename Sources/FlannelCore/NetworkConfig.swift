/// The operator's network config (`<prefix>/config`), decoded and validated with stock
/// flannel's rules (behaviour reference §2.2). IPv6 and HEAD-only fields are ignored.
public struct NetworkConfig: Sendable, Equatable {
  public let network: IPv4Network
  public let subnetLen: Int
  public let subnetMin: IPv4Address
  public let subnetMax: IPv4Address
  public let backend: BackendConfig

  /// Builds a config without validation (for callers that already hold checked values).
  public init(
    network: IPv4Network, subnetLen: Int, subnetMin: IPv4Address, subnetMax: IPv4Address,
    backend: BackendConfig
  ) {
    self.network = network
    self.subnetLen = subnetLen
    self.subnetMin = subnetMin
    self.subnetMax = subnetMax
    self.backend = backend
  }

  /// Decodes like Go's encoding/json (case-insensitive field names, unknown fields ignored)
  /// then applies flannel's defaults and checks, in flannel's order.
  public static func parse(_ text: String) throws(NetworkConfigError) -> NetworkConfig {
    let document: JSONValue
    do throws(JSONParseError) {
      document = try JSONValue.parse(text)
    } catch {
      throw NetworkConfigError(
        field: nil, message: "invalid JSON in network config: \(error)", fix: exampleFix)
    }
    guard case .object = document else {
      throw NetworkConfigError(
        field: nil,
        message: "json: cannot unmarshal \(document.kindName) into Go value of type subnet.Config",
        fix: exampleFix)
    }
    let network = try parseNetwork(document[caseInsensitive: "Network"])
    let subnetLen = try parseSubnetLen(document[caseInsensitive: "SubnetLen"], network: network)
    let subnetSize = UInt32(truncatingIfNeeded: UInt64(1) << UInt64(32 - subnetLen))
    let bounds = SubnetBounds(
      network: network, subnetLen: subnetLen,
      defaultMin: IPv4Address(network.address.value &+ subnetSize),
      defaultMax: IPv4Address(
        network.address.value &+ UInt32(truncatingIfNeeded: network.size) &- subnetSize))
    let subnetMin = try bounds.parse(document[caseInsensitive: "SubnetMin"], field: "SubnetMin")
    let subnetMax = try bounds.parse(document[caseInsensitive: "SubnetMax"], field: "SubnetMax")
    // Alignment is checked only after both bounds are known, as flannel does.
    try bounds.checkAligned(subnetMin, field: "SubnetMin")
    try bounds.checkAligned(subnetMax, field: "SubnetMax")
    let backend = try parseBackend(document[caseInsensitive: "Backend"])
    return NetworkConfig(
      network: network, subnetLen: subnetLen, subnetMin: subnetMin, subnetMax: subnetMax,
      backend: backend)
  }

  static let exampleFix =
    #"write the config as one JSON object, e.g. {"Network": "10.1.0.0/16", "Backend": {"Type": "vxlan"}}"#

  private static let networkFix = #"set "Network" to an IPv4 CIDR, e.g. "Network": "10.1.0.0/16""#

  /// Network is required; 0.0.0.0/0 counts as missing (flannel tests Network.Empty()).
  private static func parseNetwork(_ value: JSONValue?) throws(NetworkConfigError) -> IPv4Network {
    guard let value, !value.isNull else {
      throw NetworkConfigError(
        field: "Network",
        message: "please define a correct Network parameter in the flannel config",
        fix: networkFix)
    }
    guard let text = value.stringValue, let network = IPv4Network(text) else {
      throw NetworkConfigError(
        field: "Network", message: "invalid CIDR address: \(unquoted(value))", fix: networkFix)
    }
    if network.address.value == 0 && network.prefixLength == 0 {
      throw NetworkConfigError(
        field: "Network",
        message: "please define a correct Network parameter in the flannel config",
        fix: networkFix)
    }
    return network
  }

  /// SubnetLen 0 or absent means "choose": /24 for networks of /22 or larger, else
  /// prefix + 2 (four subnets, the first of which is never used).
  private static func parseSubnetLen(
    _ value: JSONValue?, network: IPv4Network
  ) throws(NetworkConfigError) -> Int {
    let prefix = network.prefixLength
    var given = 0
    if let value, !value.isNull {
      guard case .int(let number) = value, number >= 0 else {
        let shown = value.kindName == "number" ? "number \(value.serialized())" : value.kindName
        throw NetworkConfigError(
          field: "SubnetLen",
          message:
            "json: cannot unmarshal \(shown) into Go struct field Config.SubnetLen of type uint",
          fix: subnetLenFix(prefix: prefix, asNumber: true))
      }
      given = Int(clamping: number)
    }
    if given == 0 {
      if prefix > 28 {
        throw NetworkConfigError(
          field: "Network", message: "Network is too small. Minimum useful network prefix is /28",
          fix: #"use a Network prefix of /28 or shorter, e.g. "Network": "10.1.0.0/16""#)
      }
      return defaultSubnetLen(prefix: prefix)
    }
    if given > 30 {
      throw NetworkConfigError(
        field: "SubnetLen", message: "SubnetLen must be less than /31",
        fix: subnetLenFix(prefix: prefix, asNumber: false))
    }
    if given < prefix + 2 {
      throw NetworkConfigError(
        field: "SubnetLen", message: "Network must be able to accommodate at least four subnets",
        fix: subnetLenFix(prefix: prefix, asNumber: false))
    }
    return given
  }

  static func defaultSubnetLen(prefix: Int) -> Int {
    prefix <= 22 ? 24 : prefix + 2
  }

  private static func subnetLenFix(prefix: Int, asNumber: Bool) -> String {
    guard prefix <= 28 else {
      return #"use a Network prefix of /28 or shorter, or a larger Network for this "SubnetLen""#
    }
    let range = "between \(prefix + 2) and 30 (default \(defaultSubnetLen(prefix: prefix)))"
    return asNumber
      ? #"write "SubnetLen" as a JSON number "# + range + #", e.g. "SubnetLen": 24 without quotes"#
      : #"set "SubnetLen" to a value "# + range
  }

  /// Backend absent, null or `{}` means udp (flannel's code default at every version);
  /// a Backend with other fields but no Type is rejected like flannel's backend lookup does.
  private static func parseBackend(_ value: JSONValue?) throws(NetworkConfigError) -> BackendConfig
  {
    let fix =
      #"give "Backend" a "Type", e.g. "Backend": {"Type": "vxlan"} (udp, vxlan or host-gw), or leave "Backend" out for udp"#
    guard let value, !value.isNull, value != .object([]) else {
      return BackendConfig(type: "udp", raw: .object([]))
    }
    guard case .object = value else {
      throw NetworkConfigError(
        field: "Backend",
        message: "error decoding Backend property of config: json: cannot unmarshal "
          + "\(value.kindName) into Go value of type struct { Type string }",
        fix: fix)
    }
    let type = value[caseInsensitive: "Type"] ?? .null
    if !type.isNull && type.stringValue == nil {
      throw NetworkConfigError(
        field: "Backend",
        message: "error decoding Backend property of config: json: cannot unmarshal "
          + "\(type.kindName) into Go struct field .Type of type string",
        fix: fix)
    }
    let name = (type.stringValue ?? "").lowercased()
    guard !name.isEmpty else {
      throw NetworkConfigError(field: "Backend", message: "unknown backend type: ", fix: fix)
    }
    return BackendConfig(type: name, raw: value)
  }

  /// Flannel's IP decoder strips the quotes off whatever JSON it gets before parsing, so its
  /// messages show the bare text.
  static func unquoted(_ value: JSONValue) -> String {
    value.stringValue ?? value.serialized()
  }
}

/// Defaults and checks shared by SubnetMin and SubnetMax.
private struct SubnetBounds {
  let network: IPv4Network
  let subnetLen: Int
  let defaultMin: IPv4Address
  let defaultMax: IPv4Address

  /// Absent, null or 0.0.0.0 means the default (flannel cannot tell a zero IP from unset).
  func parse(_ value: JSONValue?, field: String) throws(NetworkConfigError) -> IPv4Address {
    guard let value, !value.isNull else { return defaultValue(field) }
    guard let text = value.stringValue, let address = IPv4Address(text) else {
      throw NetworkConfigError(
        field: field, message: "invalid IP address: \(NetworkConfig.unquoted(value))",
        fix: fix(field, example: defaultValue(field)))
    }
    if address.value == 0 { return defaultValue(field) }
    guard network.contains(address) else {
      throw NetworkConfigError(
        field: field, message: "\(field) is not in the range of the Network",
        fix: fix(field, example: defaultValue(field)))
    }
    return address
  }

  func checkAligned(_ address: IPv4Address, field: String) throws(NetworkConfigError) {
    let aligned = IPv4Network(address: address, prefixLength: subnetLen).address
    guard aligned == address else {
      throw NetworkConfigError(
        field: field, message: "\(field) is not on a SubnetLen boundary: \(address)",
        fix: fix(field, example: aligned))
    }
  }

  private func defaultValue(_ field: String) -> IPv4Address {
    field == "SubnetMin" ? defaultMin : defaultMax
  }

  private func fix(_ field: String, example: IPv4Address) -> String {
    #"set ""# + field + #"" to an address in \#(network) on a /\#(subnetLen) boundary, e.g. ""#
      + "\(example)\" (default \(defaultValue(field))), or leave it out"
  }
}
