@testable import FlannelCore

/// `NetworkConfig.parse` on arbitrary bytes and on generated configs. A config that parses
/// (1) still parses to the same config after its JSON is re-serialized, (2) parses to the
/// same config when written out with every default made explicit, and (3) obeys flannel's
/// rules: bounds inside Network and on a SubnetLen boundary, room for four subnets.
enum NetworkConfigTarget: ParserTarget {
  static let name = "netconfig"
  static let requiredChecks = [
    "parsed input", "generated config parsed", "generated config refused",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    if let config = try? NetworkConfig.parse(raw) {
      check(config, from: raw)
      Checks.count("parsed input")
    }
    var input = FuzzInput(bytes)
    let generated = generatedConfig(&input)
    if let config = try? NetworkConfig.parse(generated) {
      check(config, from: generated)
      Checks.count("generated config parsed")
    } else {
      Checks.count("generated config refused")
    }
  }

  static func check(_ config: NetworkConfig, from text: String) {
    guard let document = try? JSONValue.parse(text) else {
      fatalError("property failed: a config parsed from text that is not JSON: \(text)")
    }
    let reserialized = document.serialized()
    require(
      same((try? NetworkConfig.parse(reserialized)), config),
      "re-serialized config parses differently: \(text) → \(reserialized)")
    let explicit = explicitJSON(config)
    let reparsed = Result { () throws(NetworkConfigError) in try NetworkConfig.parse(explicit) }
    require(
      same((try? reparsed.get()), config),
      "config with explicit defaults parses differently: \(text) → \(explicit) → \(reparsed)")

    let network = config.network
    require(
      config.subnetLen >= network.prefixLength + 2 && config.subnetLen <= 30,
      "SubnetLen \(config.subnetLen) leaves no four subnets in \(network)")
    for bound in [config.subnetMin, config.subnetMax] {
      require(network.contains(bound), "bound \(bound) outside \(network)")
      require(
        IPv4Network(address: bound, prefixLength: config.subnetLen).address == bound,
        "bound \(bound) not on a /\(config.subnetLen) boundary")
    }
    require(
      !config.backend.type.isEmpty && config.backend.type == config.backend.type.lowercased(),
      "backend type \(config.backend.type) not lower-cased or empty")
  }

  /// Equal configs, the Backend object compared as JSON numbers are (`sameJSON`): a Port
  /// written 789E1 is the double 7890, which our serializer, like Go's, writes as 7890.
  static func same(_ a: NetworkConfig?, _ b: NetworkConfig) -> Bool {
    guard let a else { return false }
    return a.network == b.network && a.subnetLen == b.subnetLen && a.subnetMin == b.subnetMin
      && a.subnetMax == b.subnetMax && a.backend.type == b.backend.type
      && sameJSON(a.backend.raw, b.backend.raw)
  }

  /// The config as JSON with every value written out (the defaults made explicit).
  static func explicitJSON(_ config: NetworkConfig) -> String {
    JSONValue.object([
      JSONMember("Network", .string(config.network.description)),
      JSONMember("SubnetLen", .int(Int64(config.subnetLen))),
      JSONMember("SubnetMin", .string(config.subnetMin.description)),
      JSONMember("SubnetMax", .string(config.subnetMax.description)),
      JSONMember("Backend", config.backend.raw),
    ]).serialized()
  }

  /// A config object built from the bytes: mostly plausible values (so the checks after the
  /// parse run often), with odd spellings of keys and values mixed in.
  static func generatedConfig(_ input: inout FuzzInput) -> String {
    var members: [JSONMember] = []
    let flags = input.byte()
    func key(_ name: String) -> String {
      switch input.byte() % 4 {
      case 0: name.lowercased()
      case 1: name.uppercased()
      default: name
      }
    }
    let prefix = Int(input.byte() % 33)
    let address = IPv4Address(input.u32())
    if flags & 1 != 0 {
      members.append(JSONMember(key("Network"), .string("\(address)/\(prefix)")))
    }
    if flags & 2 != 0 {
      let length = input.byte()
      let value: JSONValue =
        length < 200
        ? .int(Int64(prefix) + Int64(length % 12) - 2) : GeneratedJSON.value(&input, depth: 4)
      members.append(JSONMember(key("SubnetLen"), value))
    }
    for (bit, name) in [(4, "SubnetMin"), (8, "SubnetMax")] where Int(flags) & bit != 0 {
      let pick = input.byte()
      let value: JSONValue =
        pick < 200
        ? .string(IPv4Address(address.value &+ UInt32(input.u16()) << (pick % 16)).description)
        : GeneratedJSON.value(&input, depth: 4)
      members.append(JSONMember(key(name), value))
    }
    if flags & 16 != 0 {
      let types = ["vxlan", "udp", "host-gw", "VXLAN", "", "wireguard"]
      var backend: [JSONMember] = []
      if flags & 32 != 0 {
        backend.append(JSONMember(key("Type"), .string(types[Int(input.byte()) % types.count])))
      }
      if flags & 64 != 0 {
        backend.append(JSONMember("VNI", .int(Int64(input.u16()))))
        backend.append(JSONMember("Port", .int(Int64(input.u16()))))
      }
      let value: JSONValue =
        flags & 128 != 0 ? GeneratedJSON.value(&input, depth: 3) : .object(backend)
      members.append(JSONMember(key("Backend"), value))
    }
    return JSONValue.object(members).serialized()
  }
}
