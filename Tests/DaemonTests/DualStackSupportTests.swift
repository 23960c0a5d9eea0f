import FlannelCore
import Testing

@testable import Daemon

/// Until IPv6 is carried, a config we cannot honour is refused or warned about, never
/// silently half-applied.
@Suite struct DualStackSupportTests {
  @Test func ipv4OnlyConfigIsNeitherRefusedNorWarned() throws {
    let config = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
    #expect(DualStackSupport.refusal(of: config) == nil)
    #expect(DualStackSupport.warnings(for: config, publicIPv6: "").isEmpty)
  }

  @Test func dualStackRunsIPv4OnlyWithAWarning() throws {
    let config = try NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48"}"#)
    #expect(DualStackSupport.refusal(of: config) == nil)
    let warnings = DualStackSupport.warnings(for: config, publicIPv6: "fd00::2")
    #expect(warnings.count == 2)
    #expect(warnings[0].hasPrefix("EnableIPv6 is set (IPv6Network fc00::/48)"))
    #expect(
      warnings[1] == "-public-ipv6=fd00::2 is ignored: this flanneld carries IPv4 only so far")
  }

  @Test func ipv6OnlyIsRefusedWithTheFix() throws {
    let config = try NetworkConfig.parse(
      #"{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48"}"#)
    let refusal = try #require(DualStackSupport.refusal(of: config))
    #expect(refusal.description.hasPrefix("EnableIPv4 is false (an IPv6-only network)"))
    #expect(refusal.description.contains(#"set "EnableIPv4": true"#))
  }
}
