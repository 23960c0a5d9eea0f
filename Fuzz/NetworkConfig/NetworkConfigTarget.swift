@testable import FlannelCore

/// `NetworkConfig.parse` on arbitrary bytes and on generated configs (IPv4-only, dual-stack
/// and IPv6-only). A config that parses (1) still parses to the same config after its JSON
/// is re-serialized, (2) parses to the same config when written out with every default made
/// explicit, and (3) obeys flannel's rules for each enabled family: bounds inside the
/// network and on a subnet-length boundary, room for four subnets (/30 and /126 longest).
enum NetworkConfigTarget: ParserTarget {
  static let name = "netconfig"
  static let requiredChecks = [
    "parsed input", "generated config parsed", "generated config refused",
    "generated dual-stack config parsed", "generated IPv6-only config parsed",
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
      if config.ipv6 != nil {
        Checks.count(
          config.enableIPv4
            ? "generated dual-stack config parsed" : "generated IPv6-only config parsed")
      }
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

    require(config.enableIPv4 || config.enableIPv6, "a config with no address family")
    if config.enableIPv4 {
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
    } else {
      require(
        config.network.prefixLength == 0 && config.network.address.value == 0
          && config.subnetLen == 0 && config.subnetMin.value == 0 && config.subnetMax.value == 0,
        "IPv4 disabled but IPv4 fields set: \(config)")
    }
    if let ipv6 = config.ipv6 {
      let network = ipv6.network
      require(
        ipv6.subnetLen >= network.prefixLength + 2 && ipv6.subnetLen <= 126,
        "IPv6SubnetLen \(ipv6.subnetLen) leaves no four subnets in \(network)")
      for bound in [ipv6.subnetMin, ipv6.subnetMax] {
        require(network.contains(bound), "IPv6 bound \(bound) outside \(network)")
        require(
          IPv6Network(address: bound, prefixLength: ipv6.subnetLen).address == bound,
          "IPv6 bound \(bound) not on a /\(ipv6.subnetLen) boundary")
        require(IPv6Address(bound.description) == bound, "IPv6 bound \(bound) does not reparse")
      }
      require(
        IPv6Network(network.description) == network || network.address.ipv4Mapped != nil,
        "IPv6Network \(network) does not reparse")
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
      && sameJSON(a.backend.raw, b.backend.raw) && a.enableIPv4 == b.enableIPv4
      && a.ipv6 == b.ipv6
  }

  /// The config as JSON with every value written out (the defaults made explicit).
  static func explicitJSON(_ config: NetworkConfig) -> String {
    var members = [
      JSONMember("EnableIPv4", .bool(config.enableIPv4)),
      JSONMember("Network", .string(config.network.description)),
      JSONMember("SubnetLen", .int(Int64(config.subnetLen))),
      JSONMember("SubnetMin", .string(config.subnetMin.description)),
      JSONMember("SubnetMax", .string(config.subnetMax.description)),
      JSONMember("EnableIPv6", .bool(config.enableIPv6)),
    ]
    if let ipv6 = config.ipv6 {
      // A v4-mapped network prints as a dotted quad (Go's String), which no CIDR reader
      // takes back as IPv6: write it in hex groups instead.
      let network =
        ipv6.network.address.ipv4Mapped == nil
        ? ipv6.network.description
        : "::ffff:\(String(ipv6.network.address.low >> 16 & 0xffff, radix: 16)):"
          + "\(String(ipv6.network.address.low & 0xffff, radix: 16))/\(ipv6.network.prefixLength)"
      members += [
        JSONMember("IPv6Network", .string(network)),
        JSONMember("IPv6SubnetLen", .int(Int64(ipv6.subnetLen))),
        JSONMember("IPv6SubnetMin", .string(ipv6.subnetMin.description)),
        JSONMember("IPv6SubnetMax", .string(ipv6.subnetMax.description)),
      ]
    }
    members.append(JSONMember("Backend", config.backend.raw))
    return JSONValue.object(members).serialized()
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
    members += generatedIPv6Members(&input)
    return JSONValue.object(members).serialized()
  }

  /// EnableIPv4 / EnableIPv6 and the IPv6 fields, read from the bytes after the IPv4 ones
  /// (so older corpus entries still describe their IPv4 configs).
  static func generatedIPv6Members(_ input: inout FuzzInput) -> [JSONMember] {
    var members: [JSONMember] = []
    func key(_ name: String) -> String {
      switch input.byte() % 4 {
      case 0: name.lowercased()
      case 1: name.uppercased()
      default: name
      }
    }
    let flags = input.byte()
    if flags & 1 != 0 { members.append(JSONMember(key("EnableIPv4"), .bool(flags & 2 == 0))) }
    if flags & 4 != 0 {
      let value: JSONValue = flags & 128 != 0 ? GeneratedJSON.value(&input, depth: 2) : .bool(true)
      members.append(JSONMember(key("EnableIPv6"), value))
    }
    let prefix = Int(input.byte() % 129)
    let address = IPv6Address(high: input.u64(), low: input.u64())
    if flags & 8 != 0 {
      let text = input.byte() < 250 ? "\(address)/\(prefix)" : "\(IPv4Address(input.u32()))/8"
      members.append(JSONMember(key("IPv6Network"), .string(text)))
    }
    if flags & 16 != 0 {
      let length = input.byte()
      let value: JSONValue =
        length < 200
        ? .int(Int64(prefix) + Int64(length % 12) - 2) : GeneratedJSON.value(&input, depth: 3)
      members.append(JSONMember(key("IPv6SubnetLen"), value))
    }
    for (bit, name) in [(32, "IPv6SubnetMin"), (64, "IPv6SubnetMax")] where Int(flags) & bit != 0 {
      let pick = input.byte()
      let value: JSONValue
      if pick < 200 {
        let offset = IPv6Address.powerOfTwo(Int(pick % 128)).advanced(by: UInt64(input.u16()))
        let bound = address.addingReportingOverflow(offset ?? .zero).partialValue
        value = .string(input.bool() ? bound.description : bound.description.uppercased())
      } else {
        value = GeneratedJSON.value(&input, depth: 3)
      }
      members.append(JSONMember(key(name), value))
    }
    return members
  }
}
