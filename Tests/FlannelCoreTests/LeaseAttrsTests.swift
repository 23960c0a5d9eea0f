import FlannelCore
import Testing

@Suite struct LeaseAttrsTests {
  static let vxlanData = JSONValue.object([JSONMember("VtepMAC", .string("82:4b:b6:2f:54:4e"))])
  static let headData = JSONValue.object([
    JSONMember("VNI", .int(1)), JSONMember("VtepMAC", .string("c6:d2:32:6f:8f:44")),
  ])

  @Test(arguments: [
    (
      LeaseAttrs(
        publicIP: IPv4Address("10.37.7.195")!, backendType: "vxlan", backendData: vxlanData),
      LeaseAttrs.Style.v010,
      #"{"PublicIP":"10.37.7.195","BackendType":"vxlan","BackendData":{"VtepMAC":"82:4b:b6:2f:54:4e"}}"#
    ),
    (
      LeaseAttrs(publicIP: IPv4Address("10.37.7.195")!, backendType: "host-gw"), .v010,
      #"{"PublicIP":"10.37.7.195","BackendType":"host-gw"}"#
    ),
    (LeaseAttrs(publicIP: IPv4Address("10.37.7.195")!), .v010, #"{"PublicIP":"10.37.7.195"}"#),
    (
      LeaseAttrs(
        publicIP: IPv4Address("192.168.64.3")!, backendType: "vxlan", backendData: headData),
      .head,
      #"{"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}"#
    ),
    (
      LeaseAttrs(publicIP: IPv4Address("192.168.64.3")!), .head,
      #"{"PublicIP":"192.168.64.3","PublicIPv6":null}"#
    ),
  ])
  func writesStockBytesAndReadsThemBack(attrs: LeaseAttrs, style: LeaseAttrs.Style, json: String)
    throws
  {
    #expect(attrs.json(style: style) == json)
    #expect(try LeaseAttrs.decode(json) == attrs)
  }

  @Test func decodesCaseInsensitivelyAndIgnoresUnknownFields() throws {
    let attrs = try LeaseAttrs.decode(
      #"{"publicip":"10.0.0.2","backendtype":"udp","BackendData":null,"Extra":{"x":1}}"#)
    #expect(attrs == LeaseAttrs(publicIP: IPv4Address("10.0.0.2")!, backendType: "udp"))
  }

  @Test(arguments: [
    (#"{"BackendType":"vxlan"}"#, "lease has no PublicIP"),
    (#"{"PublicIP":null}"#, "lease has no PublicIP"),
    (#"{"PublicIP":"10.0.0"}"#, "lease PublicIP is not an IPv4 address: \"10.0.0\""),
    (#"{"PublicIP":167772162}"#, "lease PublicIP is not an IPv4 address: 167772162"),
    (#"{"PublicIP":"10.0.0.2","BackendType":3}"#, "lease BackendType is not a string: 3"),
    (#"["10.0.0.2"]"#, "lease must be a JSON object, not array"),
    (#"{"PublicIP":"10.0.0.2""#, "lease is not valid JSON: unexpected end of JSON input"),
  ])
  func rejectsBadLeases(json: String, messagePrefix: String) {
    #expect {
      try LeaseAttrs.decode(json)
    } throws: { error in
      (error as? LeaseDecodeError)?.description.hasPrefix(messagePrefix) == true
    }
  }
}

@Suite struct DualStackLeaseAttrsTests {
  static let vtep = JSONValue.object([
    JSONMember("VNI", .int(1)), JSONMember("VtepMAC", .string("c6:d2:32:6f:8f:44")),
  ])
  static let vtep6 = JSONValue.object([
    JSONMember("VNI", .int(1)), JSONMember("VtepMAC", .string("4e:11:b7:8a:0c:2d")),
  ])

  /// HEAD's field order: PublicIP, PublicIPv6, BackendType, BackendData, BackendV6Data.
  @Test(arguments: [
    (
      LeaseAttrs(
        publicIP: IPv4Address("192.168.64.3")!, backendType: "vxlan", backendData: vtep,
        publicIPv6: IPv6Address("fd00:64::3")!, backendV6Data: vtep6),
      LeaseAttrs.Style.head,
      #"{"PublicIP":"192.168.64.3","PublicIPv6":"fd00:64::3","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"},"BackendV6Data":{"VNI":1,"VtepMAC":"4e:11:b7:8a:0c:2d"}}"#
    ),
    // An IPv6-only node: PublicIP 0.0.0.0, as stock writes it.
    (
      LeaseAttrs(
        publicIP: IPv4Address(0), backendType: "wireguard",
        publicIPv6: IPv6Address("2001:db8::1")!,
        backendV6Data: .object([
          JSONMember("PublicKey", .string("k")), JSONMember("Port", .int(51821)),
        ])),
      .head,
      #"{"PublicIP":"0.0.0.0","PublicIPv6":"2001:db8::1","BackendType":"wireguard","BackendV6Data":{"PublicKey":"k","Port":51821}}"#
    ),
    // v0.10 has no IPv6 fields: they appear only when set.
    (
      LeaseAttrs(
        publicIP: IPv4Address("10.0.0.2")!, backendType: "host-gw",
        publicIPv6: IPv6Address("fd00::2")!),
      .v010, #"{"PublicIP":"10.0.0.2","PublicIPv6":"fd00::2","BackendType":"host-gw"}"#
    ),
  ])
  func writesStockBytesAndReadsThemBack(attrs: LeaseAttrs, style: LeaseAttrs.Style, json: String)
    throws
  {
    #expect(attrs.json(style: style) == json)
    #expect(try LeaseAttrs.decode(json) == attrs)
  }

  @Test func readsWhatGoReads() throws {
    let attrs = try LeaseAttrs.decode(
      #"{"publicipv6":"FD00:0:0:0:0:0:0:2","PublicIP":"10.0.0.2","backendv6data":{"x":1},"BackendData":null}"#
    )
    #expect(attrs.publicIPv6 == IPv6Address("fd00::2"))
    #expect(attrs.backendV6Data == .object([JSONMember("x", .int(1))]))
    #expect(attrs.backendData == nil)
    // A null PublicIPv6 and BackendV6Data are absent.
    let plain = try LeaseAttrs.decode(
      #"{"PublicIP":"10.0.0.2","PublicIPv6":null,"BackendV6Data":null}"#)
    #expect(plain == LeaseAttrs(publicIP: IPv4Address("10.0.0.2")!))
    // An IPv6-only stock node writes PublicIP "0.0.0.0".
    let ipv6Only = try LeaseAttrs.decode(#"{"PublicIP":"0.0.0.0","PublicIPv6":"fd00::9"}"#)
    #expect(ipv6Only == LeaseAttrs(publicIP: IPv4Address(0), publicIPv6: IPv6Address("fd00::9")))
  }

  @Test(arguments: [
    (
      #"{"PublicIP":"10.0.0.2","PublicIPv6":"fd00::zz"}"#,
      #"lease PublicIPv6 is not an IPv6 address: "fd00::zz""#
    ),
    (#"{"PublicIP":"10.0.0.2","PublicIPv6":7}"#, "lease PublicIPv6 is not an IPv6 address: 7"),
    (#"{"PublicIPv6":null}"#, "lease has no PublicIP"),
    // Stock always writes PublicIP: without it a lease would be routed via 0.0.0.0.
    (#"{"PublicIPv6":"fd00::9"}"#, "lease has no PublicIP"),
  ])
  func rejectsBadIPv6(json: String, messagePrefix: String) {
    #expect {
      try LeaseAttrs.decode(json)
    } throws: { error in
      (error as? LeaseDecodeError)?.description.hasPrefix(messagePrefix) == true
    }
  }
}
