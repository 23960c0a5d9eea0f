import FlannelCore

/// What this flanneld does with a dual-stack or IPv6-only config while it carries IPv4 only
/// (stock HEAD carries both): it refuses them, with the reason, and reads the config again
/// like any bad config. Joining a dual-stack network as an IPv4-only node is not harmless:
/// stock's IPv6 allocation compares every lease's IPv6 subnet, and a lease without one
/// leaves a stock node unable to allocate (out of subnets, or worse).
enum DualStackSupport {
  struct Refusal: Error, CustomStringConvertible {
    let description: String
  }

  /// The refusal of a config this node cannot run, or nil.
  static func refusal(of config: NetworkConfig) -> Refusal? {
    if !config.enableIPv4 {
      return Refusal(
        description:
          "EnableIPv4 is false (an IPv6-only network): this flanneld carries IPv4 only so far; "
          + "set \"EnableIPv4\": true (or leave it out) with an IPv4 \"Network\", or run stock "
          + "flanneld on IPv6-only nodes")
    }
    if let ipv6 = config.ipv6 {
      return Refusal(
        description:
          "EnableIPv6 is set (IPv6Network \(ipv6.network)), but this flanneld carries IPv4 only "
          + "so far: its lease would have no IPv6 subnet, which stock dual-stack nodes cannot "
          + "allocate beside; remove \"EnableIPv6\" for an IPv4 network, or run stock flanneld "
          + "on dual-stack nodes")
    }
    return nil
  }

  /// Warnings for what the node will not do, one line each.
  static func warnings(publicIPv6: String) -> [String] {
    guard !publicIPv6.isEmpty else { return [] }
    return ["-public-ipv6=\(publicIPv6) is ignored: this flanneld carries IPv4 only so far"]
  }
}
