/// The flag table of flanneld: every flag stock flanneld has at HEAD, with its stock default
/// and help text, plus the flags only this daemon has (marked "ours").
public enum FlanneldFlags {
  public static let specs: [FlagSpec] = stock + klog + ours

  private static let stock: [FlagSpec] = [
    FlagSpec(
      name: "etcd-endpoints", kind: .string,
      defaultValue: "http://127.0.0.1:4001,http://127.0.0.1:2379",
      usage: "a comma-delimited list of etcd endpoints"),
    FlagSpec(
      name: "etcd-prefix", kind: .string, defaultValue: "/coreos.com/network",
      usage: "etcd prefix"),
    FlagSpec(
      name: "etcd-keyfile", kind: .string, defaultValue: "",
      usage: "SSL key file used to secure etcd communication"),
    FlagSpec(
      name: "etcd-certfile", kind: .string, defaultValue: "",
      usage: "SSL certification file used to secure etcd communication"),
    FlagSpec(
      name: "etcd-cafile", kind: .string, defaultValue: "",
      usage: "SSL Certificate Authority file used to secure etcd communication"),
    FlagSpec(
      name: "etcd-username", kind: .string, defaultValue: "",
      usage: "username for BasicAuth to etcd"),
    FlagSpec(
      name: "etcd-password", kind: .string, defaultValue: "",
      usage: "password for BasicAuth to etcd"),
    FlagSpec(
      name: "iface", kind: .stringList, defaultValue: "",
      usage: "interface to use (IP or name) for inter-host communication. Can be specified "
        + "multiple times to check each option in order. Returns the first match found."),
    FlagSpec(
      name: "iface-regex", kind: .stringList, defaultValue: "",
      usage: "regex expression to match the first interface to use (IP or name) for "
        + "inter-host communication. Can be specified multiple times to check each regex in "
        + "order. Returns the first match found. Regexes are checked after specific "
        + "interfaces specified by the iface option have already been checked."),
    FlagSpec(
      name: "iface-can-reach", kind: .string, defaultValue: "",
      usage: "detect interface to use (IP or name) for inter-host communication based on "
        + "which will be used for provided IP. This is exactly the interface to use of "
        + "command 'ip route get <ip-address>'"),
    FlagSpec(
      name: "subnet-file", kind: .string, defaultValue: "/run/flannel/subnet.env",
      usage: "filename where env variables (subnet, MTU, ... ) will be written to"),
    FlagSpec(
      name: "public-ip", kind: .string, defaultValue: "",
      usage: "IP accessible by other nodes for inter-host communication"),
    FlagSpec(
      name: "public-ipv6", kind: .string, defaultValue: "",
      usage: "IPv6 accessible by other nodes for inter-host communication"),
    FlagSpec(
      name: "subnet-lease-renew-margin", kind: .int, defaultValue: "60",
      usage: "subnet lease renewal margin, in minutes, ranging from 1 to 1439"),
    FlagSpec(
      name: "ip-masq", kind: .bool, defaultValue: "false",
      usage: "setup IP masquerade rule for traffic destined outside of overlay network"),
    FlagSpec(
      name: "ip-masq-fully-random-disable", kind: .bool, defaultValue: "false",
      usage: "disable fully-random mode for MASQUERADE"),
    FlagSpec(
      name: "kube-subnet-mgr", kind: .bool, defaultValue: "false",
      usage: "contact the Kubernetes API for subnet assignment instead of etcd."),
    FlagSpec(
      name: "kube-api-url", kind: .string, defaultValue: "",
      usage: "Kubernetes API server URL. Does not need to be specified if flannel is running "
        + "in a pod."),
    FlagSpec(
      name: "kube-annotation-prefix", kind: .string, defaultValue: "flannel.alpha.coreos.com",
      usage: "Kubernetes annotation prefix. Can contain single slash \"/\", otherwise it will "
        + "be appended at the end."),
    FlagSpec(
      name: "kubeconfig-file", kind: .string, defaultValue: "",
      usage: "kubeconfig file location. Does not need to be specified if flannel is running "
        + "in a pod."),
    FlagSpec(
      name: "version", kind: .bool, defaultValue: "false", usage: "print version and exit"),
    FlagSpec(
      name: "healthz-ip", kind: .string, defaultValue: "0.0.0.0",
      usage: "the IP address for healthz server to listen"),
    FlagSpec(
      name: "healthz-port", kind: .int, defaultValue: "0",
      usage: "the port for healthz server to listen(0 to disable)"),
    FlagSpec(
      name: "iptables-resync", kind: .int, defaultValue: "5",
      usage: "resync period for iptables rules, in seconds"),
    FlagSpec(
      name: "iptables-forward-rules", kind: .bool, defaultValue: "true",
      usage: "add default accept rules to FORWARD chain in iptables"),
    FlagSpec(
      name: "ip-blackhole-route", kind: .bool, defaultValue: "false",
      usage: "add blackroute route ont the node for the local podCIDR"),
    FlagSpec(
      name: "net-config-path", kind: .string, defaultValue: "/etc/kube-flannel/net-conf.json",
      usage: "path to the network configuration file"),
    FlagSpec(
      name: "set-node-network-unavailable", kind: .bool, defaultValue: "true",
      usage: "set NodeNetworkUnavailable after ready"),
  ]

  /// The three klog flags stock flanneld copies; their values are klog's own types, so Go
  /// shows "value" as placeholder and klog's Set rules decide what is accepted.
  private static let klog: [FlagSpec] = [
    FlagSpec(
      name: "v", kind: .verbosity, defaultValue: "0",
      usage: "number for the log level verbosity"),
    FlagSpec(
      name: "vmodule", kind: .string, defaultValue: "",
      usage: "comma-separated list of pattern=N settings for file-filtered logging",
      valueName: "value", check: KlogValues.checkVmodule),
    FlagSpec(
      name: "log_backtrace_at", kind: .string, defaultValue: "",
      usage: "when logging hits line file:N, emit a stack trace",
      valueName: "value", check: KlogValues.checkTraceLocation),
  ]

  private static let ours: [FlagSpec] = [
    FlagSpec(
      name: "etcd-api", kind: .string, defaultValue: "auto",
      usage: "etcd API to use: auto (v3 if the cluster serves it, else v2), v3 or v2 (ours)"),
    FlagSpec(
      name: "backend", kind: .string, defaultValue: "",
      usage: "backend type to use instead of Backend.Type of the etcd network config: udp, "
        + "vxlan or host-gw (ours)"),
    FlagSpec(
      name: "port", kind: .int, defaultValue: "0",
      usage: "UDP port of the udp/vxlan backend instead of the config's Port; 0 keeps the "
        + "config value (ours)"),
    FlagSpec(
      name: "udp-accept-any-source", kind: .bool, defaultValue: "false",
      usage: "udp backend: accept datagrams from any sender like stock flanneld, instead of "
        + "only from known lease PublicIPs (ours)"),
    FlagSpec(
      name: "udp-offloads", kind: .string, defaultValue: "all",
      usage: "udp backend: offloads to use, a list of csum, tso, uso, gro (TUN: checksum, "
        + "TCP/UDP segmentation, receive coalescing), udp-gso, udp-gro (socket), or all / none; "
        + "each turns itself off when the kernel refuses it; the wire format does not change "
        + "(ours)"),
    FlagSpec(
      name: "udp-workers", kind: .int, defaultValue: "0",
      usage: "udp backend: forwarding threads, each with its own TUN queue and socket; 0 picks "
        + "one per two online CPUs, at most 4; 1 is a single-queue TUN (ours)"),
    FlagSpec(
      name: "udp-poll-usecs", kind: .int, defaultValue: "200",
      usage: "udp backend: after moving packets, a forwarder polls for more for up to this "
        + "many microseconds before it sleeps (shorter when polls keep finding nothing; "
        + "never while idle); 0 sleeps at once (ours)"),
  ]
}
