/// The operator's network config (`<prefix>/config`), decoded and validated with stock
/// flannel's rules (behaviour reference §2.2), including HEAD's `EnableIPv4` / `EnableIPv6`
/// and the IPv6 fields. `EnableNFTables` and other unknown fields are ignored.
public struct NetworkConfig: Sendable, Equatable {
  /// The IPv4 network; 0.0.0.0/0 (with subnetLen 0 and zero bounds, as stock leaves them)
  /// when `enableIPv4` is false.
  public let network: IPv4Network
  public let subnetLen: Int
  public let subnetMin: IPv4Address
  public let subnetMax: IPv4Address
  public let backend: BackendConfig
  /// `EnableIPv4` (default true). When false the IPv4 fields above are empty and leases
  /// carry only an IPv6 subnet (key "0.0.0.0-0&<v6>-<len>", as stock writes it).
  public let enableIPv4: Bool
  /// The IPv6 part, present exactly when `EnableIPv6` is true.
  public let ipv6: IPv6NetworkConfig?

  public var enableIPv6: Bool { ipv6 != nil }

  /// Builds a config without validation (for callers that already hold checked values).
  public init(
    network: IPv4Network, subnetLen: Int, subnetMin: IPv4Address, subnetMax: IPv4Address,
    backend: BackendConfig, enableIPv4: Bool = true, ipv6: IPv6NetworkConfig? = nil
  ) {
    self.network = network
    self.subnetLen = subnetLen
    self.subnetMin = subnetMin
    self.subnetMax = subnetMax
    self.backend = backend
    self.enableIPv4 = enableIPv4
    self.ipv6 = ipv6
  }

  /// Decodes like Go's encoding/json (case-insensitive field names, unknown fields ignored)
  /// then applies flannel's defaults and checks, in flannel's order. As with Go, a field
  /// that does not decode (a bad CIDR, a negative length) is an error even when its address
  /// family is disabled; the defaults and range checks run only for enabled families.
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
    let enableIPv4 = try decodeBool(document, field: "EnableIPv4") ?? true
    let enableIPv6 = try decodeBool(document, field: "EnableIPv6") ?? false
    let empty = IPv4Address(0)
    var network = IPv4Network(address: empty, prefixLength: 0)
    var subnetLen = 0
    var subnetMin = empty
    var subnetMax = empty
    if enableIPv4 {
      network = try parseNetwork(document[caseInsensitive: "Network"])
      subnetLen = try parseSubnetLen(document[caseInsensitive: "SubnetLen"], network: network)
      let subnetSize = UInt32(truncatingIfNeeded: UInt64(1) << UInt64(32 - subnetLen))
      let bounds = SubnetBounds(
        network: network, subnetLen: subnetLen,
        defaultMin: IPv4Address(network.address.value &+ subnetSize),
        defaultMax: IPv4Address(
          network.address.value &+ UInt32(truncatingIfNeeded: network.size) &- subnetSize))
      subnetMin = try bounds.parse(document[caseInsensitive: "SubnetMin"], field: "SubnetMin")
      subnetMax = try bounds.parse(document[caseInsensitive: "SubnetMax"], field: "SubnetMax")
      // Alignment is checked only after both bounds are known, as flannel does.
      try bounds.checkAligned(subnetMin, field: "SubnetMin")
      try bounds.checkAligned(subnetMax, field: "SubnetMax")
    } else {
      try checkIPv4Decodes(document)
    }
    let ipv6 = try IPv6NetworkConfig.parse(document, enabled: enableIPv6)
    if !enableIPv4 && !enableIPv6 {
      // Stock accepts this and then leases 0.0.0.0/0 to every node; refuse it instead.
      throw NetworkConfigError(
        field: "EnableIPv4",
        message: "EnableIPv4 and EnableIPv6 are both false, so there is no network to lease from",
        fix:
          #"leave "EnableIPv4" out (it defaults to true), or set "EnableIPv6": true with an "IPv6Network""#
      )
    }
    let backend = try parseBackend(document[caseInsensitive: "Backend"])
    return NetworkConfig(
      network: network, subnetLen: subnetLen, subnetMin: subnetMin, subnetMax: subnetMax,
      backend: backend, enableIPv4: enableIPv4, ipv6: ipv6)
  }

  /// A Go bool field: absent or null keeps the default (nil here).
  private static func decodeBool(
    _ document: JSONValue, field: String
  ) throws(NetworkConfigError) -> Bool? {
    guard let value = document[caseInsensitive: field], !value.isNull else { return nil }
    guard let flag = value.boolValue else {
      throw NetworkConfigError(
        field: field,
        message:
          "json: cannot unmarshal \(value.kindName) into Go struct field Config.\(field) of type bool",
        fix: #"write ""# + field + #"" as true or false without quotes"#)
    }
    return flag
  }

  /// A Go uint field (SubnetLen, IPv6SubnetLen): absent or null is 0.
  static func decodeUInt(
    _ value: JSONValue?, field: String, fix: String
  ) throws(NetworkConfigError) -> Int {
    guard let value, !value.isNull else { return 0 }
    guard case .int(let number) = value, number >= 0 else {
      let shown = value.kindName == "number" ? "number \(value.serialized())" : value.kindName
      throw NetworkConfigError(
        field: field,
        message:
          "json: cannot unmarshal \(shown) into Go struct field Config.\(field) of type uint",
        fix: fix)
    }
    return Int(clamping: number)
  }

  /// With EnableIPv4 false stock still decodes the IPv4 fields (a bad value fails the whole
  /// config) but checks nothing else about them.
  private static func checkIPv4Decodes(_ document: JSONValue) throws(NetworkConfigError) {
    if let value = document[caseInsensitive: "Network"], !value.isNull {
      guard let text = value.stringValue, IPv4Network(text) != nil else {
        throw NetworkConfigError(
          field: "Network", message: "invalid CIDR address: \(unquoted(value))",
          fix: #"set "Network" to an IPv4 CIDR, or leave it out while "EnableIPv4" is false"#)
      }
    }
    _ = try decodeUInt(
      document[caseInsensitive: "SubnetLen"], field: "SubnetLen",
      fix: #"write "SubnetLen" as a JSON number between 0 and 30, or leave it out"#)
    for field in ["SubnetMin", "SubnetMax"] {
      guard let value = document[caseInsensitive: field], !value.isNull else { continue }
      guard let text = value.stringValue, IPv4Address(text) != nil else {
        throw NetworkConfigError(
          field: field, message: "invalid IP address: \(unquoted(value))",
          fix: #"set ""# + field
            + #"" to an IPv4 address, or leave it out while "EnableIPv4" is false"#)
      }
    }
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
    let given = try decodeUInt(
      value, field: "SubnetLen", fix: subnetLenFix(prefix: prefix, asNumber: true))
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
