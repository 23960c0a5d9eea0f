import Glibc

@testable import FlannelCore

/// `SubnetKey.parse` / `parseSubnets` (the last element of a lease key in etcd) and the IPv6
/// text reader under them, on arbitrary bytes and on generated keys: a key that parses
/// formats to a key that parses to the same subnets, alone and under the etcd prefix; a
/// formatted IPv4, dual-stack or IPv6-only key parses back; `IPv6Address` agrees with glibc's
/// inet_pton(AF_INET6) on every text with a colon (a bare dotted quad, which Go reads as
/// ::ffff:a.b.c.d, is not IPv6 text to glibc), and what it reads prints in a form it reads
/// back to the same address.
enum SubnetKeyTarget: ParserTarget {
  static let name = "subnetkey"
  static let requiredChecks = [
    "parsed input round trip", "generated key round trip", "generated dual-stack key round trip",
    "IPv6 text agrees with inet_pton", "IPv6 text read",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    if let subnets = SubnetKey.parseSubnets(raw) {
      require(SubnetKey.parse(raw) == subnets.ipv4, "parse and parseSubnets disagree on \(raw)")
      roundTrip(subnets)
      let name = raw.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
      require(
        SubnetKey.parseSubnets("/coreos.com/network/subnets/" + name) == subnets,
        "\(raw) and its last element under the prefix parse differently")
      Checks.count("parsed input round trip")
    } else {
      require(SubnetKey.parse(raw) == nil, "parse accepts what parseSubnets refuses: \(raw)")
    }
    checkIPv6Text(raw)

    var input = FuzzInput(bytes)
    let subnet = IPv4Network(
      address: IPv4Address(input.u32()), prefixLength: Int(input.byte()) % 33)
    roundTrip(LeaseSubnets(ipv4: subnet))
    for suffix in ["&fc00:0:0:1::-64", "&fd00::-127"] {
      let key = "/flannel/network/subnets/" + SubnetKey.format(subnet) + suffix
      require(SubnetKey.parse(key) == subnet, "\(key) does not parse to \(subnet)")
    }
    Checks.count("generated key round trip")
    // Stock never writes a /127 or /128 (IPv6SubnetLen ≤ 126) and reads at most /127.
    let ipv6 = IPv6Network(
      address: IPv6Address(high: input.u64(), low: input.u64()),
      prefixLength: 1 + Int(input.byte()) % 127)
    let subnets =
      input.bool() ? LeaseSubnets(ipv4: subnet, ipv6: ipv6) : LeaseSubnets(ipv6: ipv6)
    roundTrip(subnets)
    Checks.count("generated dual-stack key round trip")
  }

  /// A v4-mapped IPv6 subnet prints as a dotted quad (Go's String does the same), which the
  /// key reader, like stock's regex, does not take: the one shape whose key does not read
  /// back, so it is left out.
  static func roundTrip(_ subnets: LeaseSubnets) {
    if subnets.ipv6?.address.ipv4Mapped != nil { return }
    let key = SubnetKey.format(subnets)
    for spelling in [key, "/coreos.com/network/subnets/" + key] {
      require(
        SubnetKey.parseSubnets(spelling) == subnets, "\(spelling) does not parse to \(subnets)")
    }
  }

  static func checkIPv6Text(_ raw: String) {
    let parsed = IPv6Address(raw)
    if let parsed {
      let printed = parsed.description
      require(
        IPv6Address(printed) == parsed, "\(raw) prints as \(printed), which reads back differently")
      require(printed == printed.lowercased(), "\(printed) is not lower case")
      Checks.count("IPv6 text read")
    }
    let utf8 = Array(raw.utf8)
    guard utf8.contains(UInt8(ascii: ":")), !utf8.contains(0) else { return }
    var address = in6_addr()
    let accepted = raw.withCString { inet_pton(AF_INET6, $0, &address) } == 1
    require(
      accepted == (parsed != nil),
      "\(raw): inet_pton \(accepted), IPv6Address \(String(describing: parsed))")
    if let parsed {
      let bytes = withUnsafeBytes(of: &address) { Array($0) }
      require(parsed.bytes == bytes, "\(raw): inet_pton \(bytes), IPv6Address \(parsed.bytes)")
    }
    Checks.count("IPv6 text agrees with inet_pton")
  }

}
