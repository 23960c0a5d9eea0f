import Backends
import SubnetManager

/// flanneld's command line and `FLANNELD_*` environment, parsed and validated.
///
/// Property names follow the flags (`-subnet-lease-renew-margin` → `subnetLeaseRenewMargin`);
/// defaults are stock flanneld's. Flags marked "ours" do not exist in stock flanneld.
public struct FlanneldOptions: Sendable {
  /// The raw `-etcd-endpoints` text; `endpoints` is the validated list.
  public var etcdEndpoints: String
  public var endpoints: [String]
  public var etcdPrefix: String
  public var etcdKeyfile: String
  public var etcdCertfile: String
  public var etcdCAFile: String
  public var etcdUsername: String
  public var etcdPassword: String
  /// `-etcd-api` (ours).
  public var etcdAPI: EtcdAPIChoice

  public var iface: [String]
  public var ifaceRegex: [String]
  public var ifaceCanReach: String
  public var publicIP: String
  public var publicIPv6: String

  public var subnetFile: String
  public var ipMasq: Bool
  public var ipMasqFullyRandomDisable: Bool
  /// Minutes, 1…1439; `renewMargin` is the same as a Duration.
  public var subnetLeaseRenewMargin: Int
  public var renewMargin: Duration { .seconds(subnetLeaseRenewMargin * 60) }

  public var healthzIP: String
  public var healthzPort: Int
  /// Seconds.
  public var iptablesResync: Int
  public var iptablesForwardRules: Bool
  public var ipBlackholeRoute: Bool

  public var kubeSubnetMgr: Bool
  public var kubeAPIURL: String
  public var kubeconfigFile: String
  public var kubeAnnotationPrefix: String
  public var netConfigPath: String
  public var setNodeNetworkUnavailable: Bool

  /// `-v`, klog verbosity.
  public var verbosity: Int
  public var vmodule: String
  public var logBacktraceAt: String

  /// `-backend` (ours): "" takes the type from the etcd network config.
  public var backend: String
  /// `-port` (ours): 0 takes the port from the etcd network config.
  public var port: Int
  /// `-udp-accept-any-source`, `-udp-offloads` (a list of csum, tso, uso, gro, udp-gso,
  /// udp-gro; "all", the default, or "none"), `-udp-workers` (0 automatic, else 1…64) and
  /// `-udp-poll-usecs` (0…1,000), all ours, parsed once here for the udp backend.
  public var udp: UDPBackend.Options

  /// `-version` given on the command line (FLANNELD_VERSION is ignored, as in stock). When
  /// true the other options are not validated: the caller prints the version and exits 0.
  public var showVersion: Bool

  /// Arguments after the flags; stock flanneld ignores them (so does `-ip-masq false`'s
  /// "false"): worth a warning.
  public var positionalArguments: [String]
  /// Where each flag's value came from, by flag name.
  public var sources: [String: FlagSource]
  /// Refused `FLANNELD_*` values; stock logs them as errors and keeps the defaults.
  public var environmentErrors: [String]

  public static func parse(arguments: [String], environment: [String: String])
    throws(OptionsError) -> FlanneldOptions
  {
    let flags: ParsedFlags
    do {
      flags = try GoFlagParser.parse(
        arguments, specs: FlanneldFlags.specs, environment: environment)
    } catch {
      throw .flag(error)
    }
    var options = FlanneldOptions(flags)
    if options.showVersion { return options }
    try options.validate(flags)
    return options
  }

  private init(_ flags: ParsedFlags) {
    etcdEndpoints = flags.string("etcd-endpoints")
    endpoints = etcdEndpoints.split(separator: ",", omittingEmptySubsequences: false)
      .map(String.init)
    etcdPrefix = flags.string("etcd-prefix")
    etcdKeyfile = flags.string("etcd-keyfile")
    etcdCertfile = flags.string("etcd-certfile")
    etcdCAFile = flags.string("etcd-cafile")
    etcdUsername = flags.string("etcd-username")
    etcdPassword = flags.string("etcd-password")
    etcdAPI = EtcdAPIChoice(rawValue: flags.string("etcd-api")) ?? .auto
    iface = flags.strings("iface")
    ifaceRegex = flags.strings("iface-regex")
    ifaceCanReach = flags.string("iface-can-reach")
    publicIP = flags.string("public-ip")
    publicIPv6 = flags.string("public-ipv6")
    subnetFile = flags.string("subnet-file")
    ipMasq = flags.bool("ip-masq")
    ipMasqFullyRandomDisable = flags.bool("ip-masq-fully-random-disable")
    subnetLeaseRenewMargin = flags.int("subnet-lease-renew-margin")
    healthzIP = flags.string("healthz-ip")
    healthzPort = flags.int("healthz-port")
    iptablesResync = flags.int("iptables-resync")
    iptablesForwardRules = flags.bool("iptables-forward-rules")
    ipBlackholeRoute = flags.bool("ip-blackhole-route")
    kubeSubnetMgr = flags.bool("kube-subnet-mgr")
    kubeAPIURL = flags.string("kube-api-url")
    kubeconfigFile = flags.string("kubeconfig-file")
    kubeAnnotationPrefix = flags.string("kube-annotation-prefix")
    netConfigPath = flags.string("net-config-path")
    setNodeNetworkUnavailable = flags.bool("set-node-network-unavailable")
    verbosity = flags.int("v")
    vmodule = flags.string("vmodule")
    logBacktraceAt = flags.string("log_backtrace_at")
    backend = flags.string("backend")
    port = flags.int("port")
    // The flags' defaults; `validate` parses the given values.
    udp = UDPBackend.Options()
    // Stock checks -version before applying the environment.
    showVersion = flags.source(of: "version") == .commandLine && flags.bool("version")
    positionalArguments = flags.remainingArguments
    sources = flags.sources
    environmentErrors = flags.environmentErrors
  }

  private mutating func validate(_ flags: ParsedFlags) throws(OptionsError) {
    let etcdAPIText = flags.string("etcd-api")
    if subnetLeaseRenewMargin <= 0 || subnetLeaseRenewMargin >= 24 * 60 {
      throw .invalid(
        flag: "subnet-lease-renew-margin",
        message: "Invalid subnet-lease-renew-margin option, out of acceptable range: "
          + "\(subnetLeaseRenewMargin) minutes; use a value from 1 to 1439 "
          + "(default 60), e.g. -subnet-lease-renew-margin=60")
    }
    guard EtcdAPIChoice(rawValue: etcdAPIText) != nil else {
      throw .invalid(
        flag: "etcd-api",
        message: "invalid value \(GoText.quote(etcdAPIText)) for -etcd-api: use one of "
          + EtcdAPIChoice.allCases.map(\.rawValue).joined(separator: ", "))
    }
    if !publicIP.isEmpty && !OptionChecks.isIPv4DottedQuad(publicIP) {
      throw .invalid(
        flag: "public-ip",
        message: "invalid public IP address: \(publicIP); -public-ip must be an IPv4 "
          + "address in dotted-quad form, e.g. -public-ip=192.0.2.10")
    }
    if !(0...65535).contains(port) {
      throw .invalid(
        flag: "port",
        message: "invalid value \(port) for -port: use 1 to 65535, or 0 to take the port "
          + "from the etcd network config")
    }
    do {
      udp = try UDPBackend.Options.parse(
        acceptAnySource: flags.bool("udp-accept-any-source"),
        offloads: flags.string("udp-offloads"), workers: flags.int("udp-workers"),
        pollMicroseconds: flags.int("udp-poll-usecs"))
    } catch {
      throw .invalid(flag: error.flag, message: error.message)
    }
    switch OptionChecks.endpoints(etcdEndpoints) {
    case .success(let list): endpoints = list
    case .failure(let error): throw error
    }
  }
}
