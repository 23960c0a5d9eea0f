import FlannelCore
import Testing

@testable import Daemon

/// Until IPv6 is carried, a config we cannot honour is refused or warned about, never
/// silently half-applied.
@Suite struct DualStackSupportTests {
  @Test func ipv4OnlyConfigIsNeitherRefusedNorWarned() throws {
    let config = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
    #expect(DualStackSupport.refusal(of: config) == nil)
    #expect(DualStackSupport.warnings(publicIPv6: "").isEmpty)
  }

  /// An IPv4-only lease in a dual-stack network leaves stock nodes unable to allocate.
  @Test func dualStackIsRefusedWithTheFix() throws {
    let config = try NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48"}"#)
    let refusal = try #require(DualStackSupport.refusal(of: config))
    #expect(refusal.description.hasPrefix("EnableIPv6 is set (IPv6Network fc00::/48)"))
    #expect(refusal.description.contains(#"remove "EnableIPv6""#))
  }

  @Test func ipv6OnlyIsRefusedWithTheFix() throws {
    let config = try NetworkConfig.parse(
      #"{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48"}"#)
    let refusal = try #require(DualStackSupport.refusal(of: config))
    #expect(refusal.description.hasPrefix("EnableIPv4 is false (an IPv6-only network)"))
    #expect(refusal.description.contains(#"set "EnableIPv4": true"#))
  }

  @Test func publicIPv6IsWarnedAbout() {
    #expect(
      DualStackSupport.warnings(publicIPv6: "fd00::2") == [
        "-public-ipv6=fd00::2 is ignored: this flanneld carries IPv4 only so far"
      ])
  }
}
