import FlannelCore

/// Which dual-stack configs this flanneld runs: EnableIPv6 with the host-gw backend (IPv6
/// routes via each peer's PublicIPv6, ip6tables masquerade, the IPv6 lines of subnet.env) or
/// the udp backend (IPv6 inner packets over the IPv4 underlay, beyond stock).
/// Every other combination is refused with the reason, and the config is read again like any
/// bad config. Joining a dual-stack network as an IPv4-only node is not harmless: stock's
/// IPv6 allocation compares every lease's IPv6 subnet, and a lease without one leaves a
/// stock node unable to allocate (out of subnets, or worse).
enum DualStackSupport {
  struct Refusal: Error, CustomStringConvertible {
    let description: String
  }

  /// The backends that carry IPv6.
  static let ipv6Backends: Set<String> = ["host-gw", "udp"]

  /// The refusal of a config this node cannot run with backend `type`, or nil.
  static func refusal(of config: NetworkConfig, backendType type: String) -> Refusal? {
    if !config.enableIPv4 {
      return Refusal(
        description:
          "EnableIPv4 is false (an IPv6-only network): this flanneld runs IPv4 and dual-stack "
          + "networks only so far; set \"EnableIPv4\": true (or leave it out) with an IPv4 "
          + "\"Network\", or run stock flanneld on IPv6-only nodes")
    }
    if let ipv6 = config.ipv6, !ipv6Backends.contains(type) {
      return Refusal(
        description:
          "EnableIPv6 is set (IPv6Network \(ipv6.network)), but the \(type) backend of this "
          + "flanneld carries IPv4 only so far (host-gw and udp carry both): its lease would have no "
          + "IPv6 subnet, which stock dual-stack nodes cannot allocate beside; use "
          + "\"Backend\": {\"Type\": \"host-gw\"}, remove \"EnableIPv6\" for an IPv4 network, "
          + "or run stock flanneld on dual-stack nodes")
    }
    return nil
  }

  /// Warnings for what the node will not do, one line each.
  static func warnings(publicIPv6: String, config: NetworkConfig) -> [String] {
    guard !publicIPv6.isEmpty, config.ipv6 == nil else { return [] }
    return [
      "-public-ipv6=\(publicIPv6) is ignored: the network config does not enable IPv6 (\"EnableIPv6\": true)"
    ]
  }
}
