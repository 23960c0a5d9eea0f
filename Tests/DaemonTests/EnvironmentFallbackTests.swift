import Testing

@testable import Daemon

@Test func environmentKeysFollowStockNaming() {
  #expect(GoFlagParser.environmentKey(for: "etcd-endpoints") == "FLANNELD_ETCD_ENDPOINTS")
  #expect(GoFlagParser.environmentKey(for: "v") == "FLANNELD_V")
  #expect(GoFlagParser.environmentKey(for: "log_backtrace_at") == "FLANNELD_LOG_BACKTRACE_AT")
  #expect(GoFlagParser.environmentKey(for: "a.b-c", prefix: "X_") == "X_A_B_C")
}

@Test func environmentFillsFlagsNotOnTheCommandLine() throws {
  let parsed = try GoFlagParser.parse(
    ["-etcd-prefix=/cli"],
    specs: FlanneldFlags.specs,
    environment: [
      "FLANNELD_ETCD_PREFIX": "/env",  // command line wins
      "FLANNELD_ETCD_ENDPOINTS": "http://e:2379",
      "FLANNELD_IP_MASQ": "true",
      "FLANNELD_IPTABLES_FORWARD_RULES": "0",
      "FLANNELD_SUBNET_LEASE_RENEW_MARGIN": "0x10",
      "FLANNELD_IFACE": "eth0,eth1",  // one value, no comma split
      "FLANNELD_PUBLIC_IP": "",  // empty is ignored
      "ETCD_ENDPOINTS": "http://wrong:1",
      "flanneld_v": "3",  // names are case-sensitive
    ])
  #expect(parsed.string("etcd-prefix") == "/cli")
  #expect(parsed.source(of: "etcd-prefix") == .commandLine)
  #expect(parsed.string("etcd-endpoints") == "http://e:2379")
  #expect(parsed.source(of: "etcd-endpoints") == .environment)
  #expect(parsed.bool("ip-masq"))
  #expect(parsed.bool("iptables-forward-rules") == false)
  #expect(parsed.int("subnet-lease-renew-margin") == 16)
  #expect(parsed.strings("iface") == ["eth0,eth1"])
  #expect(parsed.source(of: "iface") == .environment)
  #expect(parsed.string("public-ip") == "")
  #expect(parsed.source(of: "public-ip") == .default)
  #expect(parsed.int("v") == 0)
  #expect(parsed.environmentErrors.isEmpty)
}

@Test func repeatableFlagOnCommandLineIgnoresEnvironment() throws {
  let parsed = try GoFlagParser.parse(
    ["-iface", "eth1"], specs: FlanneldFlags.specs, environment: ["FLANNELD_IFACE": "eth0"])
  #expect(parsed.strings("iface") == ["eth1"])
}

@Test func refusedEnvironmentValueKeepsDefaultAndIsReported() throws {
  let parsed = try GoFlagParser.parse(
    [], specs: FlanneldFlags.specs,
    environment: [
      "FLANNELD_IP_MASQ": "yes", "FLANNELD_SUBNET_LEASE_RENEW_MARGIN": "abc",
      "FLANNELD_HEALTHZ_PORT": "8080",
    ])
  #expect(parsed.bool("ip-masq") == false)
  #expect(parsed.source(of: "ip-masq") == .default)
  #expect(parsed.int("subnet-lease-renew-margin") == 60)
  #expect(parsed.int("healthz-port") == 8080)
  #expect(
    parsed.environmentErrors == [
      "invalid value \"yes\" for FLANNELD_IP_MASQ: parse error",
      "invalid value \"abc\" for FLANNELD_SUBNET_LEASE_RENEW_MARGIN: parse error",
    ])
}

@Test func customPrefix() throws {
  let specs = [FlagSpec(name: "name", kind: .string, defaultValue: "d", usage: "")]
  let parsed = try GoFlagParser.parse(
    [], specs: specs, environment: ["APP_NAME": "x", "FLANNELD_NAME": "y"], envPrefix: "APP_")
  #expect(parsed.string("name") == "x")
}
