import Backends
import FlannelCore
import Testing

@Suite struct VXLANOptionsTests {
  private func options(_ backend: String, portOverride: Int = 0) throws -> VXLANOptions {
    let config = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16","Backend":"# + backend + "}")
    return try VXLANOptions(config.backend, portOverride: portOverride)
  }

  @Test func stockDefaults() throws {
    let defaults = try options(#"{"Type":"vxlan"}"#)
    #expect(defaults == VXLANOptions(vni: 1, port: 0))
    #expect(defaults.deviceName == "flannel.1")
  }

  @Test func readsEveryMember() throws {
    let read = try options(
      #"{"Type":"vxlan","VNI":4096,"Port":4789,"GBP":true,"Learning":true,"DirectRouting":true,"MTU":1400}"#
    )
    #expect(
      read
        == VXLANOptions(
          vni: 4096, port: 4789, gbp: true, learning: true, directRouting: true, mtu: 1400))
    #expect(try options(#"{"Type":"vxlan","Port":4789}"#, portOverride: 8472).port == 8472)
  }

  /// Go refuses these configs ("cannot unmarshal …"); a silent default would put this node on
  /// another VNI or port than the rest of the cluster.
  @Test(arguments: [
    (
      #"{"Type":"vxlan","VNI":"4096"}"#,
      #"Backend.VNI is "4096" (string); write a whole number without quotes"#
    ),
    (
      #"{"Type":"vxlan","Port":472E1}"#,
      "Backend.Port is written with a fraction or an exponent; write it as the whole number 4720"
    ),
    (
      #"{"Type":"vxlan","DirectRouting":1}"#,
      "Backend.DirectRouting is 1 (number); write true or false"
    ),
    (#"{"Type":"vxlan","VNI":16777216}"#, "VNI 16777216 out of range"),
    (#"{"Type":"vxlan","MTU":50}"#, "MTU 50 leaves no room for the 50-byte vxlan header"),
  ])
  func refusesWhatGoRefuses(backend: String, message: String) throws {
    let error = #expect(throws: VXLANConfigError.self) { try options(backend) }
    #expect(error?.description == message)
  }
}
