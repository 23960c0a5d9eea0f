import FlannelCore

/// The rules stock flanneld (HEAD) keeps for `-ip-masq` and `-iptables-forward-rules`
/// (flannel-behaviour §7.1, §7.2), written in the option order iptables-save prints, so
/// that a saved rule and an expected one compare as text.
public enum FlannelIPTablesRules {
  public static let masqChain = "FLANNEL-POSTRTG"
  public static let forwardChain = "FLANNEL-FWD"
  public static let masqComment = "flanneld masq"
  public static let forwardComment = "flanneld forward"
  /// kube-proxy marks traffic it masquerades itself with this bit; NAT-ing it twice breaks
  /// some kernels, so flannel lets it pass.
  public static let kubeProxyMark = "0x4000/0x4000"
  public static let multicast = "224.0.0.0/4"
  /// The multicast range of the IPv6 rule set (ip6tables).
  public static let ipv6Multicast = "ff00::/8"

  /// nat: `N` = the flannel network, `L` = this node's lease subnet.
  public static func masquerade(network: IPv4Network, subnet: IPv4Network, randomFully: Bool)
    -> IPTablesChainSet
  {
    masquerade(
      network: network.description, subnet: subnet.description, multicast: multicast,
      randomFully: randomFully)
  }

  /// The IPv6 set (ip6tables, stock's masqIP6Rules): the same chain and rules over the
  /// IPv6Network and the lease's IPv6 subnet, with ff00::/8 as the multicast range.
  public static func masquerade(network: IPv6Network, subnet: IPv6Network, randomFully: Bool)
    -> IPTablesChainSet
  {
    masquerade(
      network: network.description, subnet: subnet.description, multicast: ipv6Multicast,
      randomFully: randomFully)
  }

  static func masquerade(network n: String, subnet l: String, multicast: String, randomFully: Bool)
    -> IPTablesChainSet
  {
    let comment = ["-m", "comment", "--comment", masqComment]
    let masq = ["-j", "MASQUERADE"] + (randomFully ? ["--random-fully"] : [])
    return IPTablesChainSet(
      table: "nat", chain: masqChain, hook: "POSTROUTING", comment: masqComment,
      rules: [
        // kube-proxy already handles what it marked.
        ["-m", "mark", "--mark", kubeProxyMark] + comment + ["-j", "RETURN"],
        // No NAT inside the overlay, either direction.
        ["-s", l, "-d", n] + comment + ["-j", "RETURN"],
        ["-s", n, "-d", l] + comment + ["-j", "RETURN"],
        // External traffic to our own pods keeps its source.
        ["!", "-s", n, "-d", l] + comment + ["-j", "RETURN"],
        // Pods leaving the overlay (multicast excepted).
        ["-s", n, "!", "-d", multicast] + comment + masq,
        // The host talking to remote pods.
        ["!", "-s", n, "-d", n] + comment + masq,
      ])
  }

  /// filter: accept forwarded traffic from and to the flannel network (Docker ≥1.13 sets the
  /// FORWARD policy to DROP).
  public static func forward(network: IPv4Network) -> IPTablesChainSet {
    forward(network: network.description)
  }

  /// The IPv6 set (ip6tables): the same rules over the IPv6Network.
  public static func forward(network: IPv6Network) -> IPTablesChainSet {
    forward(network: network.description)
  }

  static func forward(network n: String) -> IPTablesChainSet {
    let comment = ["-m", "comment", "--comment", forwardComment]
    return IPTablesChainSet(
      table: "filter", chain: forwardChain, hook: "FORWARD", comment: forwardComment,
      rules: [
        ["-s", n] + comment + ["-j", "ACCEPT"],
        ["-d", n] + comment + ["-j", "ACCEPT"],
      ])
  }

  /// The chain sets the options ask for (may be empty).
  public static func chainSets(
    network: IPv4Network, subnet: IPv4Network, ipMasq: Bool, forwardRules: Bool,
    randomFully: Bool
  ) -> [IPTablesChainSet] {
    var sets: [IPTablesChainSet] = []
    if ipMasq {
      sets.append(masquerade(network: network, subnet: subnet, randomFully: randomFully))
    }
    if forwardRules { sets.append(forward(network: network)) }
    return sets
  }

  /// The IPv6 chain sets (for ip6tables) the options ask for on a dual-stack network.
  public static func chainSets(
    network: IPv6Network, subnet: IPv6Network, ipMasq: Bool, forwardRules: Bool,
    randomFully: Bool
  ) -> [IPTablesChainSet] {
    var sets: [IPTablesChainSet] = []
    if ipMasq {
      sets.append(masquerade(network: network, subnet: subnet, randomFully: randomFully))
    }
    if forwardRules { sets.append(forward(network: network)) }
    return sets
  }
}
