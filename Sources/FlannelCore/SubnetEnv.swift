/// `/run/flannel/subnet.env`: what flanneld tells Docker / CNI about this host's subnet.
public struct SubnetEnv: Sendable, Equatable {
  /// The config Network.
  public var network: IPv4Network
  /// The lease.
  public var subnet: IPv4Network
  public var mtu: Int
  public var ipMasq: Bool
  /// False on an IPv6-only network: the two IPv4 lines are left out, as stock does.
  public var enableIPv4: Bool
  /// The config IPv6Network, when EnableIPv6.
  public var ipv6Network: IPv6Network?
  /// The lease's IPv6 subnet, when EnableIPv6.
  public var ipv6Subnet: IPv6Network?

  public init(
    network: IPv4Network, subnet: IPv4Network, mtu: Int, ipMasq: Bool, enableIPv4: Bool = true,
    ipv6Network: IPv6Network? = nil, ipv6Subnet: IPv6Network? = nil
  ) {
    self.network = network
    self.subnet = subnet
    self.mtu = mtu
    self.ipMasq = ipMasq
    self.enableIPv4 = enableIPv4
    self.ipv6Network = ipv6Network
    self.ipv6Subnet = ipv6Subnet
  }

  /// Stock flannel's lines in its order: FLANNEL_NETWORK and FLANNEL_SUBNET (unless IPv4 is
  /// disabled), FLANNEL_IPV6_NETWORK and FLANNEL_IPV6_SUBNET (when both IPv6 values are
  /// set), FLANNEL_MTU, FLANNEL_IPMASQ. A subnet line holds the lease's first host address
  /// (network + 1), which Docker / the CNI bridge use as the gateway.
  public func rendered() -> String {
    var text = ""
    if enableIPv4 {
      let gateway = IPv4Address(subnet.address.value &+ 1)
      text += "FLANNEL_NETWORK=\(network)\nFLANNEL_SUBNET=\(gateway)/\(subnet.prefixLength)\n"
    }
    if let ipv6Network, let ipv6Subnet {
      let gateway = ipv6Subnet.address.addingReportingOverflow(IPv6Address(high: 0, low: 1))
      text +=
        "FLANNEL_IPV6_NETWORK=\(ipv6Network)\n"
        + "FLANNEL_IPV6_SUBNET=\(gateway.partialValue)/\(ipv6Subnet.prefixLength)\n"
    }
    return text + "FLANNEL_MTU=\(mtu)\nFLANNEL_IPMASQ=\(ipMasq)\n"
  }

  /// Reads `KEY=value` lines the way a dotenv loader does: blank lines and `#` comments are
  /// skipped, an `export ` prefix is allowed, surrounding whitespace is trimmed, a value in
  /// matching single or double quotes loses them, and an unquoted value loses a trailing
  /// ` # comment`. Lines without `=` are ignored; a repeated key keeps its last value.
  public static func variables(in text: String) -> [String: String] {
    var result: [String: String] = [:]
    for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
      var line = trimmed(rawLine)
      if line.isEmpty || line.hasPrefix("#") { continue }
      if line.hasPrefix("export ") { line = trimmed(line.dropFirst("export ".count)) }
      guard let equals = line.firstIndex(of: "=") else { continue }
      let key = trimmed(line[..<equals])
      guard !key.isEmpty else { continue }
      result[String(key)] = value(trimmed(line[line.index(after: equals)...]))
    }
    return result
  }

  /// FLANNEL_SUBNET masked to its network: "10.1.15.1/24" → 10.1.15.0/24.
  public static func previousSubnet(in text: String) -> IPv4Network? {
    variables(in: text)["FLANNEL_SUBNET"].flatMap { IPv4Network($0) }
  }

  /// FLANNEL_IPV6_SUBNET masked to its network: "fc00:0:0:1::1/64" → fc00:0:0:1::/64. As
  /// stock HEAD reads it: the value may be a comma-separated list, entries that do not parse
  /// are skipped, and more than one good entry means none.
  public static func previousIPv6Subnet(in text: String) -> IPv6Network? {
    guard let value = variables(in: text)["FLANNEL_IPV6_SUBNET"] else { return nil }
    let subnets = value.split(separator: ",", omittingEmptySubsequences: false)
      .compactMap { IPv6Network(String($0)) }
    return subnets.count == 1 ? subnets[0] : nil
  }

  private static func value(_ text: Substring) -> String {
    if text.count >= 2, let quote = text.first, quote == "\"" || quote == "'",
      text.last == quote
    {
      return String(text.dropFirst().dropLast())
    }
    if let comment = text.firstRange(of: " #") ?? text.firstRange(of: "\t#") {
      return String(trimmed(text[..<comment.lowerBound]))
    }
    return String(text)
  }

  private static func trimmed(_ text: Substring) -> Substring {
    let start = text.firstIndex(where: { !$0.isWhitespace }) ?? text.endIndex
    let end = text.lastIndex(where: { !$0.isWhitespace }).map { text.index(after: $0) } ?? start
    return text[start..<max(start, end)]
  }
}
