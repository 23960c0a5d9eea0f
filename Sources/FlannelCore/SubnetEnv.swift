/// `/run/flannel/subnet.env`: what flanneld tells Docker / CNI about this host's subnet.
public struct SubnetEnv: Sendable, Equatable {
  /// The config Network.
  public var network: IPv4Network
  /// The lease.
  public var subnet: IPv4Network
  public var mtu: Int
  public var ipMasq: Bool

  public init(network: IPv4Network, subnet: IPv4Network, mtu: Int, ipMasq: Bool) {
    self.network = network
    self.subnet = subnet
    self.mtu = mtu
    self.ipMasq = ipMasq
  }

  /// Stock flannel's four IPv4 lines, in its order. FLANNEL_SUBNET is the lease's first host
  /// address (network + 1), which Docker uses as the bridge address.
  public func rendered() -> String {
    let gateway = IPv4Address(subnet.address.value &+ 1)
    return """
      FLANNEL_NETWORK=\(network)
      FLANNEL_SUBNET=\(gateway)/\(subnet.prefixLength)
      FLANNEL_MTU=\(mtu)
      FLANNEL_IPMASQ=\(ipMasq)

      """
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
