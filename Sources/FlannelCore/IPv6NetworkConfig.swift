/// The IPv6 half of the network config (`EnableIPv6`, `IPv6Network`, `IPv6SubnetLen`,
/// `IPv6SubnetMin`, `IPv6SubnetMax`), with stock HEAD's defaults and checks: the IPv4 rules
/// with /124 as the smallest network, /64 subnets for networks of /62 or larger, /126 as the
/// longest subnet.
public struct IPv6NetworkConfig: Sendable, Equatable {
  public let network: IPv6Network
  public let subnetLen: Int
  public let subnetMin: IPv6Address
  public let subnetMax: IPv6Address

  /// Builds the IPv6 part without validation.
  public init(
    network: IPv6Network, subnetLen: Int, subnetMin: IPv6Address, subnetMax: IPv6Address
  ) {
    self.network = network
    self.subnetLen = subnetLen
    self.subnetMin = subnetMin
    self.subnetMax = subnetMax
  }

  /// IPv6SubnetLen 0 or absent means "choose": /64 for networks of /62 or larger, else
  /// prefix + 2.
  public static func defaultSubnetLen(prefix: Int) -> Int {
    prefix <= 62 ? 64 : prefix + 2
  }

  /// Decodes the four IPv6 fields of `document` (a bad value is an error even when IPv6 is
  /// disabled, as Go's decoder fails the whole config) and, when `enabled`, applies the
  /// defaults and checks in stock's order. nil when disabled.
  static func parse(
    _ document: JSONValue, enabled: Bool
  ) throws(NetworkConfigError) -> IPv6NetworkConfig? {
    let decodedNetwork = try decodeNetwork(document[caseInsensitive: "IPv6Network"])
    let givenLen = try NetworkConfig.decodeUInt(
      document[caseInsensitive: "IPv6SubnetLen"], field: "IPv6SubnetLen",
      fix: lengthFix(prefix: decodedNetwork?.prefixLength, asNumber: true))
    let givenMin = try decodeAddress(document[caseInsensitive: "IPv6SubnetMin"], "IPv6SubnetMin")
    let givenMax = try decodeAddress(document[caseInsensitive: "IPv6SubnetMax"], "IPv6SubnetMax")
    guard enabled else { return nil }

    // "::/0" is what Go holds for an absent network, so it counts as missing too.
    guard let network = decodedNetwork, !(network.address.isZero && network.prefixLength == 0)
    else {
      throw NetworkConfigError(
        field: "IPv6Network",
        message: "please define a correct IPv6Network parameter in the flannel config",
        fix: networkFix)
    }
    let subnetLen = try checkSubnetLen(givenLen, network: network)
    let subnetSize = IPv6Address.powerOfTwo(128 - subnetLen)
    // The first subnet is skipped (its address is the network's own); the last one is the
    // top of the network: computed by masking so that a network ending at ffff:…:ffff
    // does not overflow.
    let defaultMin = network.address.addingReportingOverflow(subnetSize).partialValue
    let defaultMax = IPv6Network(address: network.lastAddress, prefixLength: subnetLen).address
    let bounds = IPv6SubnetBounds(
      network: network, subnetLen: subnetLen, defaultMin: defaultMin, defaultMax: defaultMax)
    let subnetMin = try bounds.resolve(givenMin, field: "IPv6SubnetMin")
    let subnetMax = try bounds.resolve(givenMax, field: "IPv6SubnetMax")
    try bounds.checkAligned(subnetMin, field: "IPv6SubnetMin")
    try bounds.checkAligned(subnetMax, field: "IPv6SubnetMax")
    return IPv6NetworkConfig(
      network: network, subnetLen: subnetLen, subnetMin: subnetMin, subnetMax: subnetMax)
  }

  private static let networkFix =
    #"set "IPv6Network" to an IPv6 CIDR, e.g. "IPv6Network": "fc00::/48", or set "EnableIPv6": false"#

  /// Absent or null is nil; otherwise the text must be an IPv6 CIDR, host bits masked.
  private static func decodeNetwork(_ value: JSONValue?) throws(NetworkConfigError) -> IPv6Network?
  {
    guard let value, !value.isNull else { return nil }
    let text = NetworkConfig.unquoted(value)
    if let network = value.stringValue.flatMap({ IPv6Network($0) }) { return network }
    // Go reads "10.0.0.0/8" as a /8 of the IPv6 space; say what is wrong instead.
    let message =
      value.stringValue.flatMap({ IPv4Network($0) }) != nil
      ? "invalid IPv6 CIDR format: \(text)" : "invalid CIDR address: \(text)"
    throw NetworkConfigError(field: "IPv6Network", message: message, fix: networkFix)
  }

  /// Absent, null or "::" is nil (stock cannot tell the zero address from unset).
  private static func decodeAddress(
    _ value: JSONValue?, _ field: String
  ) throws(NetworkConfigError) -> IPv6Address? {
    guard let value, !value.isNull else { return nil }
    guard let address = value.stringValue.flatMap({ IPv6Address($0) }) else {
      throw NetworkConfigError(
        field: field, message: "invalid IP address format",
        fix: #"set ""# + field + #"" to an IPv6 address such as "fc00:0:0:1::" (it is "#
          + "\(value.serialized()) now), or leave it out")
    }
    return address.isZero ? nil : address
  }

  private static func checkSubnetLen(
    _ given: Int, network: IPv6Network
  ) throws(NetworkConfigError) -> Int {
    let prefix = network.prefixLength
    if given == 0 {
      if prefix > 124 {
        throw NetworkConfigError(
          field: "IPv6Network",
          message: "IPv6Network is too small. Minimum useful network prefix is /124",
          fix: #"use an IPv6Network prefix of /124 or shorter, e.g. "IPv6Network": "fc00::/48""#)
      }
      return defaultSubnetLen(prefix: prefix)
    }
    if given > 126 {
      throw NetworkConfigError(
        field: "IPv6SubnetLen", message: "SubnetLen must be less than /127",
        fix: lengthFix(prefix: prefix, asNumber: false))
    }
    if given < prefix + 2 {
      throw NetworkConfigError(
        field: "IPv6SubnetLen",
        message: "network must be able to accommodate at least four subnets",
        fix: lengthFix(prefix: prefix, asNumber: false))
    }
    return given
  }

  private static func lengthFix(prefix: Int?, asNumber: Bool) -> String {
    guard let prefix else {
      return #"write "IPv6SubnetLen" as a JSON number between 2 and 126, or leave it out"#
    }
    guard prefix <= 124 else {
      return
        #"use an IPv6Network prefix of /124 or shorter, or a larger IPv6Network for this "IPv6SubnetLen""#
    }
    let range = "between \(prefix + 2) and 126 (default \(defaultSubnetLen(prefix: prefix)))"
    return asNumber
      ? #"write "IPv6SubnetLen" as a JSON number "# + range + ", without quotes"
      : #"set "IPv6SubnetLen" to a value "# + range
  }
}

/// Defaults and checks shared by IPv6SubnetMin and IPv6SubnetMax.
private struct IPv6SubnetBounds {
  let network: IPv6Network
  let subnetLen: Int
  let defaultMin: IPv6Address
  let defaultMax: IPv6Address

  func resolve(_ given: IPv6Address?, field: String) throws(NetworkConfigError) -> IPv6Address {
    guard let given else { return defaultValue(field) }
    guard network.contains(given) else {
      throw NetworkConfigError(
        field: field, message: "\(field) is not in the range of the IPv6Network",
        fix: fix(field, example: defaultValue(field)))
    }
    return given
  }

  func checkAligned(_ address: IPv6Address, field: String) throws(NetworkConfigError) {
    let aligned = IPv6Network(address: address, prefixLength: subnetLen).address
    guard aligned == address else {
      throw NetworkConfigError(
        field: field, message: "\(field) is not on a SubnetLen boundary: \(address)",
        fix: fix(field, example: aligned))
    }
  }

  private func defaultValue(_ field: String) -> IPv6Address {
    field == "IPv6SubnetMin" ? defaultMin : defaultMax
  }

  private func fix(_ field: String, example: IPv6Address) -> String {
    #"set ""# + field + #"" to an address in \#(network) on a /\#(subnetLen) boundary, e.g. ""#
      + "\(example)\" (default \(defaultValue(field))), or leave it out"
  }
}
