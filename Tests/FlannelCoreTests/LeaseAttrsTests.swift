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
      #"{"publicip":"10.0.0.2","backendtype":"udp","BackendData":null,"BackendV6Data":{"x":1}}"#)
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
