import FlannelCore
import Testing

@Suite struct NetworkConfigDefaultsTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let json: String
    let network: String
    let subnetLen: Int
    let subnetMin: String
    let subnetMax: String
    let backend: String
    var testDescription: String { json }
  }

  @Test(arguments: [
    // The reference example.
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":{"Type":"vxlan"}}"#, network: "10.1.0.0/16",
      subnetLen: 24, subnetMin: "10.1.1.0", subnetMax: "10.1.255.0", backend: "vxlan"),
    // The seed config: host bits masked, explicit SubnetMin on the first subnet accepted.
    Case(
      json:
        #"{"Network": "172.17.0.1/16","SubnetMin": "172.17.0.0", "SubnetMax": "172.17.254.0","Backend":{"Type":"vxlan"}}"#,
      network: "172.17.0.0/16", subnetLen: 24, subnetMin: "172.17.0.0",
      subnetMax: "172.17.254.0", backend: "vxlan"),
    // Case-insensitive keys; SubnetLen given.
    Case(
      json: #"{"network":"10.1.0.0/16","subnetlen":26}"#, network: "10.1.0.0/16",
      subnetLen: 26, subnetMin: "10.1.0.64", subnetMax: "10.1.255.192", backend: "udp"),
    // Prefix ≤ 22 defaults to /24.
    Case(
      json: #"{"Network":"10.0.0.0/8"}"#, network: "10.0.0.0/8", subnetLen: 24,
      subnetMin: "10.0.1.0", subnetMax: "10.255.255.0", backend: "udp"),
    Case(
      json: #"{"Network":"10.1.4.0/22"}"#, network: "10.1.4.0/22", subnetLen: 24,
      subnetMin: "10.1.5.0", subnetMax: "10.1.7.0", backend: "udp"),
    // Prefix 23…28 defaults to prefix + 2.
    Case(
      json: #"{"Network":"10.1.2.0/23"}"#, network: "10.1.2.0/23", subnetLen: 25,
      subnetMin: "10.1.2.128", subnetMax: "10.1.3.128", backend: "udp"),
    Case(
      json: #"{"Network":"10.0.0.0/28"}"#, network: "10.0.0.0/28", subnetLen: 30,
      subnetMin: "10.0.0.4", subnetMax: "10.0.0.12", backend: "udp"),
    // SubnetLen 0 means "choose"; SubnetLen 30 is the maximum; prefix+2 the minimum.
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":0}"#, network: "10.1.0.0/16", subnetLen: 24,
      subnetMin: "10.1.1.0", subnetMax: "10.1.255.0", backend: "udp"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":30}"#, network: "10.1.0.0/16",
      subnetLen: 30, subnetMin: "10.1.0.4", subnetMax: "10.1.255.252", backend: "udp"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":18}"#, network: "10.1.0.0/16",
      subnetLen: 18, subnetMin: "10.1.64.0", subnetMax: "10.1.192.0", backend: "udp"),
    // Zero SubnetMin/Max mean "default"; nulls too; no Min ≤ Max check.
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetMin":"0.0.0.0","SubnetMax":null}"#,
      network: "10.1.0.0/16", subnetLen: 24, subnetMin: "10.1.1.0", subnetMax: "10.1.255.0",
      backend: "udp"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetMin":"10.1.200.0","SubnetMax":"10.1.100.0"}"#,
      network: "10.1.0.0/16", subnetLen: 24, subnetMin: "10.1.200.0",
      subnetMax: "10.1.100.0", backend: "udp"),
    // Top of the address space: the default SubnetMax must not wrap.
    Case(
      json: #"{"Network":"255.255.0.0/16"}"#, network: "255.255.0.0/16", subnetLen: 24,
      subnetMin: "255.255.1.0", subnetMax: "255.255.255.0", backend: "udp"),
    // Backend: absent, null, {} mean udp; Type lower-cased; unknown fields ignored.
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":null,"EnableNFTables":true,"Foo":[1]}"#,
      network: "10.1.0.0/16", subnetLen: 24, subnetMin: "10.1.1.0", subnetMax: "10.1.255.0",
      backend: "udp"),
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":{}}"#, network: "10.1.0.0/16", subnetLen: 24,
      subnetMin: "10.1.1.0", subnetMax: "10.1.255.0", backend: "udp"),
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":{"type":"VXLAN"}}"#, network: "10.1.0.0/16",
      subnetLen: 24, subnetMin: "10.1.1.0", subnetMax: "10.1.255.0", backend: "vxlan"),
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":{"Type":"Host-GW"}}"#,
      network: "10.1.0.0/16", subnetLen: 24, subnetMin: "10.1.1.0", subnetMax: "10.1.255.0",
      backend: "host-gw"),
  ])
  func appliesDefaults(c: Case) throws {
    let config = try NetworkConfig.parse(c.json)
    #expect(config.network.description == c.network)
    #expect(config.subnetLen == c.subnetLen)
    #expect(config.subnetMin.description == c.subnetMin)
    #expect(config.subnetMax.description == c.subnetMax)
    #expect(config.backend.type == c.backend)
  }

  /// Go's decoder refuses a Backend member of the wrong JSON type (an int written as 789E1 or
  /// "8285", a bool as "true") where a silent default would run the wrong port or mode.
  @Test(arguments: [
    (
      #"{"Type":"udp","Port":789E1}"#, "Port",
      "Backend.Port is written with a fraction or an exponent; write it as the whole number 7890"
    ),
    (
      #"{"Type":"udp","Port":8285.5}"#, "Port",
      "Backend.Port is 8285.5 (number); write a whole number without quotes"
    ),
    (
      #"{"Type":"udp","Port":"8285"}"#, "Port",
      #"Backend.Port is "8285" (string); write a whole number without quotes"#
    ),
    (
      #"{"Type":"vxlan","DirectRouting":"true"}"#, "DirectRouting",
      #"Backend.DirectRouting is "true" (string); write true or false"#
    ),
    (
      #"{"Type":"udp","Name":7}"#, "Name",
      "Backend.Name is 7 (number); write a string in double quotes"
    ),
  ])
  func refusesWrongTypes(backend: String, field: String, message: String) throws {
    let config = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16","Backend":"# + backend + "}")
    let error = #expect(throws: BackendConfigError.self) {
      switch field {
      case "DirectRouting": _ = try config.backend.bool(field)
      case "Name": _ = try config.backend.string(field)
      default: _ = try config.backend.int(field)
      }
    }
    #expect(error?.description == message)
    #expect(error?.field == field)
  }

  @Test func nullIsAbsent() throws {
    let config = try NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","Backend":{"Type":"vxlan","VNI":null,"GBP":null}}"#)
    #expect(try config.backend.int("VNI") == nil)
    #expect(try config.backend.bool("GBP") == nil)
  }

  @Test func keepsRawBackend() throws {
    let config = try NetworkConfig.parse(
      #"{"Network":"10.1.0.0/16","Backend":{"Type":"udp","Port":8285,"DirectRouting":true,"Name":"x"}}"#
    )
    #expect(try config.backend.int("port") == 8285)
    #expect(try config.backend.int("Port") == 8285)
    #expect(try config.backend.bool("directrouting") == true)
    #expect(try config.backend.string("NAME") == "x")
    #expect(try config.backend.int("VNI") == nil)
    #expect(throws: BackendConfigError.self) { try config.backend.string("Port") }
    #expect(
      config.backend.raw.serialized()
        == #"{"Type":"udp","Port":8285,"DirectRouting":true,"Name":"x"}"#)
  }

  @Test func absentBackendIsEmptyObject() throws {
    let config = try NetworkConfig.parse(#"{"Network":"10.1.0.0/16"}"#)
    #expect(config.backend == BackendConfig(type: "udp", raw: .object([])))
  }
}

@Suite struct NetworkConfigErrorTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let json: String
    let field: String?
    let message: String
    /// A piece the fix must contain.
    let fixPart: String
    var testDescription: String { json }
  }

  @Test(arguments: [
    Case(
      json: #"{}"#, field: "Network",
      message: "please define a correct Network parameter in the flannel config",
      fixPart: #"set "Network" to an IPv4 CIDR"#),
    Case(
      json: #"{"Network":null,"Backend":{"Type":"vxlan"}}"#, field: "Network",
      message: "please define a correct Network parameter in the flannel config",
      fixPart: #""Network": "10.1.0.0/16""#),
    Case(
      json: #"{"Network":"0.0.0.0/0"}"#, field: "Network",
      message: "please define a correct Network parameter in the flannel config",
      fixPart: #"set "Network""#),
    Case(
      json: #"{"Network":"10.1.0.0"}"#, field: "Network",
      message: "invalid CIDR address: 10.1.0.0", fixPart: #"set "Network""#),
    Case(
      json: #"{"Network":"10.1.0.0/33"}"#, field: "Network",
      message: "invalid CIDR address: 10.1.0.0/33", fixPart: #"set "Network""#),
    Case(
      json: #"{"Network":16}"#, field: "Network", message: "invalid CIDR address: 16",
      fixPart: #"set "Network""#),
    Case(
      json: #"{"Network":"10.0.0.0/29"}"#, field: "Network",
      message: "Network is too small. Minimum useful network prefix is /28",
      fixPart: "/28 or shorter"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":31}"#, field: "SubnetLen",
      message: "SubnetLen must be less than /31",
      fixPart: #"set "SubnetLen" to a value between 18 and 30 (default 24)"#),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":17}"#, field: "SubnetLen",
      message: "Network must be able to accommodate at least four subnets",
      fixPart: #"set "SubnetLen" to a value between 18 and 30 (default 24)"#),
    Case(
      json: #"{"Network":"10.1.2.0/23","SubnetLen":24}"#, field: "SubnetLen",
      message: "Network must be able to accommodate at least four subnets",
      fixPart: "between 25 and 30 (default 25)"),
    Case(
      json: #"{"Network":"10.0.0.0/29","SubnetLen":30}"#, field: "SubnetLen",
      message: "Network must be able to accommodate at least four subnets",
      fixPart: "/28 or shorter"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":"24"}"#, field: "SubnetLen",
      message: "json: cannot unmarshal string into Go struct field Config.SubnetLen of type uint",
      fixPart: #"write "SubnetLen" as a JSON number between 18 and 30"#),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":-1}"#, field: "SubnetLen",
      message:
        "json: cannot unmarshal number -1 into Go struct field Config.SubnetLen of type uint",
      fixPart: "JSON number"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":24.5}"#, field: "SubnetLen",
      message:
        "json: cannot unmarshal number 24.5 into Go struct field Config.SubnetLen of type uint",
      fixPart: "JSON number"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetMin":"10.2.1.0"}"#, field: "SubnetMin",
      message: "SubnetMin is not in the range of the Network",
      fixPart: #"set "SubnetMin" to an address in 10.1.0.0/16 on a /24 boundary"#),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetMax":"10.2.1.0"}"#, field: "SubnetMax",
      message: "SubnetMax is not in the range of the Network", fixPart: "(default 10.1.255.0)"),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetMin":"10.1.1.5"}"#, field: "SubnetMin",
      message: "SubnetMin is not on a SubnetLen boundary: 10.1.1.5",
      fixPart: #"e.g. "10.1.1.0" (default 10.1.1.0)"#),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetLen":26,"SubnetMax":"10.1.200.10"}"#,
      field: "SubnetMax", message: "SubnetMax is not on a SubnetLen boundary: 10.1.200.10",
      fixPart: #"on a /26 boundary, e.g. "10.1.200.0" (default 10.1.255.192)"#),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetMin":"10.1.1"}"#, field: "SubnetMin",
      message: "invalid IP address: 10.1.1", fixPart: #"set "SubnetMin""#),
    Case(
      json: #"{"Network":"10.1.0.0/16","SubnetMax":5}"#, field: "SubnetMax",
      message: "invalid IP address: 5", fixPart: #"set "SubnetMax""#),
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":{"Port":8285}}"#, field: "Backend",
      message: "unknown backend type: ", fixPart: #""Backend": {"Type": "vxlan"}"#),
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":{"Type":""}}"#, field: "Backend",
      message: "unknown backend type: ", fixPart: #"give "Backend" a "Type""#),
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":{"Type":7}}"#, field: "Backend",
      message:
        "error decoding Backend property of config: json: cannot unmarshal number into Go struct field .Type of type string",
      fixPart: #"give "Backend" a "Type""#),
    Case(
      json: #"{"Network":"10.1.0.0/16","Backend":"vxlan"}"#, field: "Backend",
      message:
        "error decoding Backend property of config: json: cannot unmarshal string into Go value of type struct { Type string }",
      fixPart: #"give "Backend" a "Type""#),
    Case(
      json: #"["10.1.0.0/16"]"#, field: nil,
      message: "json: cannot unmarshal array into Go value of type subnet.Config",
      fixPart: #"write the config as one JSON object"#),
  ])
  func rejects(c: Case) {
    do {
      let config = try NetworkConfig.parse(c.json)
      Issue.record("accepted: \(config)")
    } catch {
      #expect(error.field == c.field)
      #expect(error.message == c.message)
      #expect(error.fix.contains(c.fixPart), "fix was: \(error.fix)")
      let prefix = c.field.map { "\($0): " } ?? ""
      #expect(error.description == "\(prefix)\(c.message). Fix: \(error.fix)")
    }
  }

  @Test func malformedJSONNamesPosition() {
    do {
      _ = try NetworkConfig.parse("{\"Network\": \"10.1.0.0/16\",\n \"SubnetLen\": 24,}")
      Issue.record("accepted malformed JSON")
    } catch {
      #expect(error.field == nil)
      #expect(
        error.message
          == "invalid JSON in network config: invalid character '}' looking for beginning of object key string at line 2, column 18 (byte offset 44)"
      )
      #expect(error.description.hasPrefix("invalid JSON in network config: "))
      #expect(error.description.contains(". Fix: write the config as one JSON object"))
    }
  }
}
