import FlannelCore

/// What this flanneld does with a dual-stack or IPv6-only config while it carries IPv4 only
/// (stock HEAD carries both): an IPv6-only network is a config it cannot honour, refused with
/// the reason and read again like any bad config; `EnableIPv6` beside IPv4 runs the node
/// IPv4-only, said loudly at startup instead of silently.
enum DualStackSupport {
  struct Refusal: Error, CustomStringConvertible {
    let description: String
  }

  /// The refusal of a config this node cannot run at all, or nil.
  static func refusal(of config: NetworkConfig) -> Refusal? {
    guard !config.enableIPv4 else { return nil }
    return Refusal(
      description:
        "EnableIPv4 is false (an IPv6-only network): this flanneld carries IPv4 only so far; "
        + "set \"EnableIPv4\": true (or leave it out) with an IPv4 \"Network\", or run stock "
        + "flanneld on IPv6-only nodes")
  }

  /// Warnings for what the node will not do, one line each.
  static func warnings(for config: NetworkConfig, publicIPv6: String) -> [String] {
    var lines: [String] = []
    if let ipv6 = config.ipv6 {
      lines.append(
        "EnableIPv6 is set (IPv6Network \(ipv6.network)), but this flanneld carries IPv4 only so "
          + "far: this node leases no IPv6 subnet, writes no FLANNEL_IPV6_* lines and IPv6 "
          + "traffic to its pods is not forwarded; IPv4 works as usual")
    }
    if !publicIPv6.isEmpty {
      lines.append("-public-ipv6=\(publicIPv6) is ignored: this flanneld carries IPv4 only so far")
    }
    return lines
  }
}
