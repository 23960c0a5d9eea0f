import Testing

@testable import Daemon

@Test func stockDefaults() throws {
  let options = try FlanneldOptions.parse(arguments: [], environment: [:])
  #expect(options.etcdEndpoints == "http://127.0.0.1:4001,http://127.0.0.1:2379")
  #expect(options.endpoints == ["http://127.0.0.1:4001", "http://127.0.0.1:2379"])
  #expect(options.etcdPrefix == "/coreos.com/network")
  #expect(options.etcdKeyfile == "" && options.etcdCertfile == "" && options.etcdCAFile == "")
  #expect(options.etcdUsername == "" && options.etcdPassword == "")
  #expect(options.iface == [] && options.ifaceRegex == [] && options.ifaceCanReach == "")
  #expect(options.publicIP == "" && options.publicIPv6 == "")
  #expect(options.subnetFile == "/run/flannel/subnet.env")
  #expect(options.ipMasq == false && options.ipMasqFullyRandomDisable == false)
  #expect(options.subnetLeaseRenewMargin == 60)
  #expect(options.renewMargin == .seconds(3600))
  #expect(options.healthzIP == "0.0.0.0" && options.healthzPort == 0)
  #expect(options.iptablesResync == 5)
  #expect(options.iptablesForwardRules == true)
  #expect(options.ipBlackholeRoute == false)
  #expect(
    options.kubeSubnetMgr == false && options.kubeAPIURL == "" && options.kubeconfigFile == "")
  #expect(options.kubeAnnotationPrefix == "flannel.alpha.coreos.com")
  #expect(options.netConfigPath == "/etc/kube-flannel/net-conf.json")
  #expect(options.setNodeNetworkUnavailable == true)
  #expect(options.verbosity == 0 && options.vmodule == "" && options.logBacktraceAt == "")
  #expect(options.etcdAPI == .auto)
  #expect(options.backend == "" && options.port == 0 && options.udp.acceptAnySource == false)
  #expect(options.showVersion == false)
  #expect(options.positionalArguments == [])
  #expect(options.sources.values.allSatisfy { $0 == .default })
}

@Test func typicalUnitFileLine() throws {
  let options = try FlanneldOptions.parse(
    arguments: [
      "-etcd-endpoints=http://10.0.0.1:2379,https://10.0.0.2:2379", "-etcd-prefix=/k8s/network",
      "--iface", "eth1", "-ip-masq", "-subnet-lease-renew-margin=30", "-public-ip=192.0.2.10",
      "-etcd-api=v2", "-backend", "udp", "-port=7890", "-udp-accept-any-source", "-v=1",
    ], environment: [:])
  #expect(options.endpoints == ["http://10.0.0.1:2379", "https://10.0.0.2:2379"])
  #expect(options.etcdPrefix == "/k8s/network")
  #expect(options.iface == ["eth1"])
  #expect(options.ipMasq)
  #expect(options.renewMargin == .seconds(1800))
  #expect(options.publicIP == "192.0.2.10")
  #expect(options.etcdAPI == .v2)
  #expect(options.backend == "udp" && options.port == 7890 && options.udp.acceptAnySource)
  #expect(options.verbosity == 1)
  #expect(options.sources["ip-masq"] == .commandLine)
}

@Test func environmentAndCommandLinePrecedence() throws {
  let options = try FlanneldOptions.parse(
    arguments: ["-etcd-prefix=/cli"],
    environment: [
      "FLANNELD_ETCD_PREFIX": "/env", "FLANNELD_ETCD_ENDPOINTS": "http://e:2379",
      "FLANNELD_IP_MASQ": "1", "FLANNELD_ETCD_API": "v3",
    ])
  #expect(options.etcdPrefix == "/cli")
  #expect(options.endpoints == ["http://e:2379"])
  #expect(options.ipMasq)
  #expect(options.etcdAPI == .v3)
  #expect(options.sources["etcd-endpoints"] == .environment)
  #expect(options.sources["etcd-prefix"] == .commandLine)
}

@Test func versionOnlyFromCommandLine() throws {
  let fromEnv = try FlanneldOptions.parse(
    arguments: [], environment: ["FLANNELD_VERSION": "true"])
  #expect(fromEnv.showVersion == false)
  let fromFlag = try FlanneldOptions.parse(arguments: ["--version"], environment: [:])
  #expect(fromFlag.showVersion)
  // Stock prints the version before validating anything.
  let withBadMargin = try FlanneldOptions.parse(
    arguments: ["-version", "-subnet-lease-renew-margin=0"], environment: [:])
  #expect(withBadMargin.showVersion)
  let off = try FlanneldOptions.parse(arguments: ["-version=false"], environment: [:])
  #expect(off.showVersion == false)
}

@Test func falseAfterBoolIsPositional() throws {
  let options = try FlanneldOptions.parse(
    arguments: ["-ip-masq", "false", "-etcd-prefix=/x"], environment: [:])
  #expect(options.ipMasq)
  #expect(options.etcdPrefix == "/coreos.com/network")
  #expect(options.positionalArguments == ["false", "-etcd-prefix=/x"])
}

@Test func flagErrorsAreWrapped() {
  #expect(throws: OptionsError.flag(.helpRequested)) {
    try FlanneldOptions.parse(arguments: ["-h"], environment: [:])
  }
  #expect(throws: OptionsError.flag(.notDefined(name: "listen"))) {
    try FlanneldOptions.parse(arguments: ["-listen=:8080"], environment: [:])
  }
}

struct ValidationCase: CustomTestStringConvertible, Sendable {
  let arguments: [String]
  var environment: [String: String] = [:]
  let flag: String
  let message: String
  var testDescription: String {
    (arguments + environment.map { "\($0)=\($1)" }).joined(separator: " ")
  }
}

let validationCases: [ValidationCase] = [
  .init(
    arguments: ["-subnet-lease-renew-margin=0"], flag: "subnet-lease-renew-margin",
    message: "Invalid subnet-lease-renew-margin option, out of acceptable range: 0 minutes; "
      + "use a value from 1 to 1439 (default 60), e.g. -subnet-lease-renew-margin=60"),
  .init(
    arguments: ["-subnet-lease-renew-margin=1440"], flag: "subnet-lease-renew-margin",
    message: "Invalid subnet-lease-renew-margin option, out of acceptable range: 1440 minutes; "
      + "use a value from 1 to 1439 (default 60), e.g. -subnet-lease-renew-margin=60"),
  .init(
    arguments: [], environment: ["FLANNELD_SUBNET_LEASE_RENEW_MARGIN": "-5"],
    flag: "subnet-lease-renew-margin",
    message: "Invalid subnet-lease-renew-margin option, out of acceptable range: -5 minutes; "
      + "use a value from 1 to 1439 (default 60), e.g. -subnet-lease-renew-margin=60"),
  .init(
    arguments: ["-etcd-api=v4"], flag: "etcd-api",
    message: "invalid value \"v4\" for -etcd-api: use one of auto, v3, v2"),
  .init(
    arguments: ["-etcd-api=V3"], flag: "etcd-api",
    message: "invalid value \"V3\" for -etcd-api: use one of auto, v3, v2"),
  .init(
    arguments: ["-public-ip=10.0.0"], flag: "public-ip",
    message: "invalid public IP address: 10.0.0; -public-ip must be an IPv4 address in "
      + "dotted-quad form, e.g. -public-ip=192.0.2.10"),
  .init(
    arguments: ["-public-ip=fd00::1"], flag: "public-ip",
    message: "invalid public IP address: fd00::1; -public-ip must be an IPv4 address in "
      + "dotted-quad form, e.g. -public-ip=192.0.2.10"),
  .init(
    arguments: ["-port=70000"], flag: "port",
    message: "invalid value 70000 for -port: use 1 to 65535, or 0 to take the port from the "
      + "etcd network config"),
  .init(
    arguments: ["-etcd-endpoints=http://a:2379,127.0.0.1:2379"], flag: "etcd-endpoints",
    message: "invalid etcd endpoint \"127.0.0.1:2379\" in -etcd-endpoints: each "
      + "comma-separated endpoint must start with http:// or https://, e.g. "
      + "-etcd-endpoints=http://127.0.0.1:2379"),
  .init(
    arguments: ["-etcd-endpoints=http://a:2379,"], flag: "etcd-endpoints",
    message: "invalid etcd endpoint \"\" (empty item) in -etcd-endpoints: each "
      + "comma-separated endpoint must start with http:// or https://, e.g. "
      + "-etcd-endpoints=http://127.0.0.1:2379"),
  .init(
    arguments: ["-etcd-endpoints=unix:///run/etcd.sock"], flag: "etcd-endpoints",
    message: "invalid etcd endpoint \"unix:///run/etcd.sock\" in -etcd-endpoints: each "
      + "comma-separated endpoint must start with http:// or https://, e.g. "
      + "-etcd-endpoints=http://127.0.0.1:2379"),
]

@Test(arguments: validationCases)
func validationError(_ row: ValidationCase) {
  #expect(throws: OptionsError.invalid(flag: row.flag, message: row.message)) {
    try FlanneldOptions.parse(arguments: row.arguments, environment: row.environment)
  }
  #expect(OptionsError.invalid(flag: row.flag, message: row.message).description == row.message)
}

@Test func boundaryValuesAreAccepted() throws {
  for margin in ["1", "1439"] {
    let options = try FlanneldOptions.parse(
      arguments: ["-subnet-lease-renew-margin", margin], environment: [:])
    #expect(options.subnetLeaseRenewMargin == Int(margin))
  }
  let port = try FlanneldOptions.parse(arguments: ["-port=65535"], environment: [:])
  #expect(port.port == 65535)
}

@Test(arguments: [
  ("0.0.0.0", true), ("255.255.255.255", true), ("192.0.2.10", true),
  ("256.0.0.1", false), ("1.2.3", false), ("1.2.3.4.5", false), ("01.2.3.4", false),
  ("1.2.3.4 ", false), ("a.b.c.d", false), ("1..3.4", false), ("", false), ("+1.2.3.4", false),
])
func ipv4DottedQuad(_ text: String, _ valid: Bool) {
  #expect(OptionChecks.isIPv4DottedQuad(text) == valid)
}
