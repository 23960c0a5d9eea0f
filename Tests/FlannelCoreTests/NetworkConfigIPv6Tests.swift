import FlannelCore
import Testing

@Suite struct NetworkConfigIPv6DefaultsTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let json: String
    let network: String
    let subnetLen: Int
    let subnetMin: String
    let subnetMax: String
    var testDescription: String { json }
  }

  static let dual = #""Network":"10.1.0.0/16","EnableIPv6":true,"#

  @Test(arguments: [
    // Networks of /62 or larger get /64 subnets; the first subnet is skipped.
    Case(
      json: "{\(dual)\"IPv6Network\":\"fc00::/48\"}", network: "fc00::/48", subnetLen: 64,
      subnetMin: "fc00:0:0:1::", subnetMax: "fc00:0:0:ffff::"),
    Case(
      json: "{\(dual)\"IPv6Network\":\"fc00::/62\"}", network: "fc00::/62", subnetLen: 64,
      subnetMin: "fc00:0:0:1::", subnetMax: "fc00:0:0:3::"),
    // Longer prefixes get prefix + 2, down to /124 → /126.
    Case(
      json: "{\(dual)\"IPv6Network\":\"fc00::/63\"}", network: "fc00::/63", subnetLen: 65,
      subnetMin: "fc00::8000:0:0:0", subnetMax: "fc00:0:0:1:8000::"),
    Case(
      json: "{\(dual)\"IPv6Network\":\"fc00::/124\"}", network: "fc00::/124", subnetLen: 126,
      subnetMin: "fc00::4", subnetMax: "fc00::c"),
    // Host bits masked; IPv6SubnetLen given (126 is the longest allowed).
    Case(
      json: "{\(dual)\"IPv6Network\":\"fc00::1/56\",\"IPv6SubnetLen\":126}",
      network: "fc00::/56", subnetLen: 126, subnetMin: "fc00::4",
      subnetMax: "fc00::ff:ffff:ffff:ffff:fffc"),
    Case(
      json: "{\(dual)\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":50}", network: "fc00::/48",
      subnetLen: 50, subnetMin: "fc00:0:0:4000::", subnetMax: "fc00:0:0:c000::"),
    // "::" and null bounds mean the default; no Min ≤ Max check.
    Case(
      json:
        "{\(dual)\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":\"::\",\"IPv6SubnetMax\":null}",
      network: "fc00::/48", subnetLen: 64, subnetMin: "fc00:0:0:1::",
      subnetMax: "fc00:0:0:ffff::"),
    Case(
      json:
        "{\(dual)\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":\"fc00:0:0:20::\",\"IPv6SubnetMax\":\"FC00:0:0:10::\"}",
      network: "fc00::/48", subnetLen: 64, subnetMin: "fc00:0:0:20::",
      subnetMax: "fc00:0:0:10::"),
    // Top of the address space: the default max must not wrap.
    Case(
      json: "{\(dual)\"IPv6Network\":\"ffff:ffff::/32\"}", network: "ffff:ffff::/32",
      subnetLen: 64, subnetMin: "ffff:ffff:0:1::", subnetMax: "ffff:ffff:ffff:ffff::"),
    // Field names match case-insensitively.
    Case(
      json:
        #"{"network":"10.1.0.0/16","enableipv6":true,"ipv6network":"fd00:1::/64","ipv6subnetlen":66}"#,
      network: "fd00:1::/64", subnetLen: 66, subnetMin: "fd00:1:0:0:4000::",
      subnetMax: "fd00:1:0:0:c000::"),
  ])
  func appliesDefaults(c: Case) throws {
    let config = try NetworkConfig.parse(c.json)
    let ipv6 = try #require(config.ipv6)
    #expect(config.enableIPv6)
    #expect(ipv6.network.description == c.network)
    #expect(ipv6.subnetLen == c.subnetLen)
    #expect(ipv6.subnetMin.description == c.subnetMin)
    #expect(ipv6.subnetMax.description == c.subnetMax)
    // The IPv4 half is untouched.
    #expect(config.enableIPv4)
    #expect(config.network == IPv4Network("10.1.0.0/16"))
    #expect(config.subnetLen == 24)
  }

  @Test func ipv6OnlyLeavesIPv4Empty() throws {
    let config = try NetworkConfig.parse(
      #"{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}"#
    )
    #expect(!config.enableIPv4)
    #expect(config.network == IPv4Network("0.0.0.0/0"))
    #expect(config.subnetLen == 0)
    #expect(config.subnetMin == IPv4Address(0))
    #expect(config.subnetMax == IPv4Address(0))
    #expect(config.ipv6?.network == IPv6Network("fc00::/48"))
    #expect(config.backend.type == "vxlan")
    // A Network written anyway is decoded, then ignored, as stock ignores it.
    let ignored = try NetworkConfig.parse(
      #"{"EnableIPv4":false,"Network":"10.1.0.0/16","SubnetLen":40,"EnableIPv6":true,"IPv6Network":"fc00::/48"}"#
    )
    #expect(ignored == config.withBackend(ignored.backend))
  }

  @Test(arguments: [
    #"{"Network":"10.1.0.0/16"}"#,
    #"{"Network":"10.1.0.0/16","EnableIPv6":false,"IPv6Network":"fc00::/48"}"#,
    #"{"Network":"10.1.0.0/16","EnableIPv6":null,"EnableIPv4":null}"#,
    #"{"Network":"10.1.0.0/16","EnableIPv4":true,"IPv6SubnetLen":200}"#,
  ])
  func ipv6DisabledByDefault(json: String) throws {
    let config = try NetworkConfig.parse(json)
    #expect(config.ipv6 == nil)
    #expect(!config.enableIPv6)
    #expect(config.enableIPv4)
    #expect(config.network == IPv4Network("10.1.0.0/16"))
  }
}

extension NetworkConfig {
  fileprivate func withBackend(_ backend: BackendConfig) -> NetworkConfig {
    NetworkConfig(
      network: network, subnetLen: subnetLen, subnetMin: subnetMin, subnetMax: subnetMax,
      backend: backend, enableIPv4: enableIPv4, ipv6: ipv6)
  }
}

@Suite struct NetworkConfigIPv6ErrorTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let json: String
    let field: String
    let message: String
    let fixPart: String
    var testDescription: String { json }
  }

  static let dual = #""Network":"10.1.0.0/16","EnableIPv6":true"#

  @Test(arguments: [
    Case(
      json: "{\(dual)}", field: "IPv6Network",
      message: "please define a correct IPv6Network parameter in the flannel config",
      fixPart: #""IPv6Network": "fc00::/48""#),
    Case(
      json: "{\(dual),\"IPv6Network\":\"::/0\"}", field: "IPv6Network",
      message: "please define a correct IPv6Network parameter in the flannel config",
      fixPart: #"set "IPv6Network""#),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::\"}", field: "IPv6Network",
      message: "invalid CIDR address: fc00::", fixPart: #"set "IPv6Network""#),
    Case(
      json: "{\(dual),\"IPv6Network\":48}", field: "IPv6Network",
      message: "invalid CIDR address: 48", fixPart: #"set "IPv6Network""#),
    Case(
      json: "{\(dual),\"IPv6Network\":\"10.0.0.0/8\"}", field: "IPv6Network",
      message: "invalid IPv6 CIDR format: 10.0.0.0/8", fixPart: "an IPv6 CIDR"),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/125\"}", field: "IPv6Network",
      message: "IPv6Network is too small. Minimum useful network prefix is /124",
      fixPart: "/124 or shorter"),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":127}",
      field: "IPv6SubnetLen", message: "SubnetLen must be less than /127",
      fixPart: #"set "IPv6SubnetLen" to a value between 50 and 126 (default 64)"#),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":49}",
      field: "IPv6SubnetLen", message: "network must be able to accommodate at least four subnets",
      fixPart: "between 50 and 126"),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/126\",\"IPv6SubnetLen\":126}",
      field: "IPv6SubnetLen", message: "network must be able to accommodate at least four subnets",
      fixPart: "/124 or shorter"),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":\"64\"}",
      field: "IPv6SubnetLen",
      message:
        "json: cannot unmarshal string into Go struct field Config.IPv6SubnetLen of type uint",
      fixPart: "JSON number between 50 and 126"),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":-64}",
      field: "IPv6SubnetLen",
      message:
        "json: cannot unmarshal number -64 into Go struct field Config.IPv6SubnetLen of type uint",
      fixPart: "JSON number"),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":\"fc01::\"}",
      field: "IPv6SubnetMin", message: "IPv6SubnetMin is not in the range of the IPv6Network",
      fixPart: #"an address in fc00::/48 on a /64 boundary, e.g. "fc00:0:0:1::""#),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMax\":\"10.1.0.0\"}",
      field: "IPv6SubnetMax", message: "IPv6SubnetMax is not in the range of the IPv6Network",
      fixPart: "(default fc00:0:0:ffff::)"),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMax\":\"fc00:0:0:1::5\"}",
      field: "IPv6SubnetMax",
      message: "IPv6SubnetMax is not on a SubnetLen boundary: fc00:0:0:1::5",
      fixPart: #"e.g. "fc00:0:0:1::""#),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":\"fc00::zz\"}",
      field: "IPv6SubnetMin", message: "invalid IP address format",
      fixPart: #"it is "fc00::zz" now"#),
    Case(
      json: "{\(dual),\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":7}",
      field: "IPv6SubnetMin", message: "invalid IP address format", fixPart: "it is 7 now"),
    Case(
      json: #"{"Network":"10.1.0.0/16","EnableIPv6":"true"}"#, field: "EnableIPv6",
      message: "json: cannot unmarshal string into Go struct field Config.EnableIPv6 of type bool",
      fixPart: "true or false without quotes"),
    Case(
      json: #"{"Network":"10.1.0.0/16","EnableIPv4":1}"#, field: "EnableIPv4",
      message: "json: cannot unmarshal number into Go struct field Config.EnableIPv4 of type bool",
      fixPart: "true or false"),
    Case(
      json: #"{"EnableIPv4":false}"#, field: "EnableIPv4",
      message: "EnableIPv4 and EnableIPv6 are both false, so there is no network to lease from",
      fixPart: #"leave "EnableIPv4" out"#),
    // A disabled family's fields must still decode, as with Go's decoder.
    Case(
      json: #"{"Network":"10.1.0.0/16","IPv6Network":"bogus"}"#, field: "IPv6Network",
      message: "invalid CIDR address: bogus", fixPart: #"set "IPv6Network""#),
    Case(
      json: #"{"Network":"10.1.0.0/16","IPv6SubnetMax":"fc00::/64"}"#, field: "IPv6SubnetMax",
      message: "invalid IP address format", fixPart: #"set "IPv6SubnetMax""#),
    Case(
      json: #"{"EnableIPv4":false,"Network":"bogus","EnableIPv6":true,"IPv6Network":"fc00::/48"}"#,
      field: "Network", message: "invalid CIDR address: bogus", fixPart: #""EnableIPv4" is false"#
    ),
    Case(
      json: #"{"EnableIPv4":false,"SubnetMin":"x","EnableIPv6":true,"IPv6Network":"fc00::/48"}"#,
      field: "SubnetMin", message: "invalid IP address: x", fixPart: #"set "SubnetMin""#),
    Case(
      json: #"{"EnableIPv4":false,"SubnetLen":-1,"EnableIPv6":true,"IPv6Network":"fc00::/48"}"#,
      field: "SubnetLen",
      message:
        "json: cannot unmarshal number -1 into Go struct field Config.SubnetLen of type uint",
      fixPart: "JSON number"),
  ])
  func rejects(c: Case) {
    do {
      let config = try NetworkConfig.parse(c.json)
      Issue.record("accepted: \(config)")
    } catch {
      #expect(error.field == c.field)
      #expect(error.message == c.message)
      #expect(error.fix.contains(c.fixPart), "fix was: \(error.fix)")
      #expect(error.description == "\(c.field): \(c.message). Fix: \(error.fix)")
    }
  }
}
