import FlannelCore

/// Which dual-stack and IPv6-only configs this flanneld runs: EnableIPv6 with a backend of
/// `ipv6Backends` (host-gw: IPv6 routes via each peer's PublicIPv6; vxlan: `flannel-v6.<VNI>`
/// over the IPv6 underlay; udp, beyond stock: IPv6 inner packets over the IPv4 underlay), with
/// ip6tables masquerade and the IPv6 lines of subnet.env; an
/// IPv6-only network (`"EnableIPv4": false`) with a backend of `ipv6OnlyBackends` (udp, beyond
/// stock: over the IPv6 underlay). Every
/// other combination is refused with the reason, and the config is read again like any bad
/// config. Joining a dual-stack network as an IPv4-only node is not harmless: stock's IPv6
/// allocation compares every lease's IPv6 subnet, and a lease without one leaves a stock node
/// unable to allocate (out of subnets, or worse).
enum DualStackSupport {
  struct Refusal: Error, CustomStringConvertible {
    let description: String
  }

  /// The backends that carry IPv6 beside IPv4.
  static let ipv6Backends: Set<String> = ["host-gw", "udp", "vxlan"]
  /// The backends that run an IPv6-only network.
  static let ipv6OnlyBackends: Set<String> = ["host-gw", "udp", "vxlan"]

  /// The refusal of a config this node cannot run with backend `type`, or nil.
  static func refusal(of config: NetworkConfig, backendType type: String) -> Refusal? {
    if !config.enableIPv4 && !ipv6OnlyBackends.contains(type) {
      let runners = ipv6OnlyBackends.sorted().joined(separator: ", ")
      return Refusal(
        description:
          "EnableIPv4 is false (an IPv6-only network), but the \(type) backend of this flanneld "
          + "does not run IPv6-only networks so far (\(runners) do): use "
          + "\"Backend\": {\"Type\": \"host-gw\"} (or vxlan, udp), set \"EnableIPv4\": true with an IPv4 "
          + "\"Network\", or run stock flanneld on IPv6-only nodes")
    }
    if let ipv6 = config.ipv6, !ipv6Backends.contains(type) {
      let carriers = ipv6Backends.sorted().joined(separator: " and ")
      return Refusal(
        description:
          "EnableIPv6 is set (IPv6Network \(ipv6.network)), but the \(type) backend of this "
          + "flanneld carries IPv4 only so far (\(carriers) carry both): its lease would have no "
          + "IPv6 subnet, which stock dual-stack nodes cannot allocate beside; use "
          + "\"Backend\": {\"Type\": \"host-gw\"} (or vxlan, udp), remove \"EnableIPv6\" for an IPv4 network, "
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
