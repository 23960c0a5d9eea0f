import FlannelCore
import Testing

@testable import Daemon

/// A config this node cannot honour is refused or warned about, never silently half-applied:
/// dual-stack runs on host-gw, udp and vxlan, IPv6-only too (udp over the IPv6 underlay).
@Suite struct DualStackSupportTests {
  static let dualStack =
    #"{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48"}"#

  @Test(arguments: ["udp", "vxlan", "host-gw", "wireguard"])
  func ipv4OnlyConfigIsNeitherRefusedNorWarned(type: String) throws {
    let config = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
    #expect(DualStackSupport.refusal(of: config, backendType: type) == nil)
    #expect(DualStackSupport.warnings(publicIPv6: "", config: config).isEmpty)
  }

  @Test(arguments: ["host-gw", "udp", "vxlan"])
  func dualStackRunsOn(type: String) throws {
    let config = try NetworkConfig.parse(Self.dualStack)
    #expect(DualStackSupport.refusal(of: config, backendType: type) == nil)
    #expect(DualStackSupport.warnings(publicIPv6: "fd00::2", config: config).isEmpty)
  }

  /// An IPv4-only lease in a dual-stack network leaves stock nodes unable to allocate.
  @Test(arguments: ["wireguard"])
  func dualStackOnAnotherBackendIsRefusedWithTheFix(type: String) throws {
    let config = try NetworkConfig.parse(Self.dualStack)
    let refusal = try #require(DualStackSupport.refusal(of: config, backendType: type))
    #expect(
      refusal.description.hasPrefix(
        "EnableIPv6 is set (IPv6Network fc00::/48), but the \(type) backend of this flanneld carries IPv4 only so far (host-gw and udp and vxlan carry both)"
      ))
    #expect(refusal.description.contains(#"use "Backend": {"Type": "host-gw"}"#))
    #expect(refusal.description.contains(#"remove "EnableIPv6""#))
  }

  static let ipv6Only = #"{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48"}"#

  @Test(arguments: ["host-gw", "udp", "vxlan"])
  func ipv6OnlyRunsOn(type: String) throws {
    let config = try NetworkConfig.parse(Self.ipv6Only)
    #expect(DualStackSupport.refusal(of: config, backendType: type) == nil)
  }

  @Test(arguments: ["wireguard"])
  func ipv6OnlyOnAnotherBackendIsRefusedWithTheFix(type: String) throws {
    let config = try NetworkConfig.parse(Self.ipv6Only)
    let refusal = try #require(DualStackSupport.refusal(of: config, backendType: type))
    #expect(
      refusal.description.hasPrefix(
        "EnableIPv4 is false (an IPv6-only network), but the \(type) backend"))
    #expect(refusal.description.contains(#"use "Backend": {"Type": "host-gw"}"#))
    #expect(refusal.description.contains(#"set "EnableIPv4": true"#))
  }

  @Test func publicIPv6OnAnIPv4NetworkIsWarnedAbout() throws {
    let config = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
    #expect(
      DualStackSupport.warnings(publicIPv6: "fd00::2", config: config) == [
        #"-public-ipv6=fd00::2 is ignored: the network config does not enable IPv6 ("EnableIPv6": true)"#
      ])
  }
}
