@testable import FlannelCore

/// `SubnetKey.parse` (the last element of a lease key in etcd) on arbitrary bytes and on
/// generated keys: a key that parses formats to a key that parses to the same subnet, alone,
/// under the etcd prefix and with a dual-stack IPv6 half; a formatted subnet parses back.
enum SubnetKeyTarget: ParserTarget {
  static let name = "subnetkey"
  static let requiredChecks = ["parsed input round trip", "generated key round trip"]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    if let subnet = SubnetKey.parse(raw) {
      roundTrip(subnet)
      let name = raw.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
      require(
        SubnetKey.parse("/coreos.com/network/subnets/" + name) == subnet,
        "\(raw) and its last element under the prefix parse differently")
      Checks.count("parsed input round trip")
    }
    var input = FuzzInput(bytes)
    let subnet = IPv4Network(
      address: IPv4Address(input.u32()), prefixLength: Int(input.byte()) % 33)
    roundTrip(subnet)
    Checks.count("generated key round trip")
  }

  static func roundTrip(_ subnet: IPv4Network) {
    let key = SubnetKey.format(subnet)
    for spelling in [
      key, "/coreos.com/network/subnets/" + key, key + "&fc00:0:0:1::-64",
      "/flannel/network/subnets/" + key + "&fd00::-128",
    ] {
      require(SubnetKey.parse(spelling) == subnet, "\(spelling) does not parse to \(subnet)")
    }
  }
}
