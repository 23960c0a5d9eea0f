#if canImport(Glibc)
  import Glibc
#endif

/// A peer's underlay address: its IPv4 PublicIP, or on an IPv6-only network its PublicIPv6
/// (two host-order halves). Host byte order.
public enum UnderlayAddress: Hashable, Sendable {
  case ipv4(UInt32)
  case ipv6(high: UInt64, low: UInt64)

  /// The address as 128 bits: an IPv4 one IPv4-mapped (`::ffff:a.b.c.d`), so that one
  /// comparison serves both families (a datagram from an IPv4 socket never carries an IPv6
  /// sender, nor the reverse).
  public var mapped: (high: UInt64, low: UInt64) {
    switch self {
    case .ipv4(let address): (0, Self.mappedPrefix | UInt64(address))
    case .ipv6(let high, let low): (high, low)
    }
  }

  /// The low half of `::ffff:0.0.0.0`.
  public static let mappedPrefix: UInt64 = 0xffff_0000_0000
}

/// A next hop as the send path uses it, built once per route when a snapshot is made: the
/// socket address a SENDMSG names — room for a `sockaddr_in6`; an IPv4 one fills the first 16
/// bytes, and the socket's family decides how many the kernel reads (`msg_namelen` is set once
/// per socket, `MessageHeaders`) — and the key that groups packets to one peer into a run.
struct NextHop {
  var address: sockaddr_in6
  /// IPv4: `s_addr << 16 | sin_port` as stored in the sockaddr (below 2⁴⁸). IPv6: bit 63 set,
  /// the peer's ordinal among the snapshot's IPv6 next hops `<< 16`, the port (runs never
  /// outlive the snapshot they were built under: the loop flushes them every batch).
  var key: UInt64

  init() {
    address = sockaddr_in6()
    key = 0
  }

  /// An IPv4 next hop (host-order address and port).
  static func ipv4(_ address: UInt32, _ port: UInt16) -> NextHop {
    var hop = NextHop()
    let name = makeSocketAddress(address, port)
    withUnsafeMutableBytes(of: &hop.address) { $0.storeBytes(of: name, as: sockaddr_in.self) }
    hop.key = UInt64(name.sin_addr.s_addr) << 16 | UInt64(name.sin_port)
    return hop
  }

  /// An IPv6 next hop (host-order halves and port); `ordinal` tells apart the snapshot's
  /// IPv6 peers.
  static func ipv6(high: UInt64, low: UInt64, port: UInt16, ordinal: Int) -> NextHop {
    var hop = NextHop()
    hop.address = makeSocketAddress6(high: high, low: low, port: port)
    hop.key = 1 << 63 | UInt64(truncatingIfNeeded: ordinal) << 16 | UInt64(port.bigEndian)
    return hop
  }

  /// The IPv4 socket address in the first 16 bytes (for an IPv4 next hop).
  var ipv4Address: sockaddr_in {
    withUnsafeBytes(of: address) { $0.load(as: sockaddr_in.self) }
  }
}

/// A `sockaddr_in6` for a host-order address (two halves) and port.
func makeSocketAddress6(high: UInt64, low: UInt64, port: UInt16) -> sockaddr_in6 {
  var name = sockaddr_in6()
  name.sin6_family = sa_family_t(AF_INET6)
  name.sin6_port = port.bigEndian
  withUnsafeMutableBytes(of: &name.sin6_addr) {
    $0.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
    $0.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
  }
  return name
}

/// The address and port of a `sockaddr_in6`, host order.
func socketAddress6Parts(_ name: sockaddr_in6) -> (high: UInt64, low: UInt64, port: UInt16) {
  withUnsafeBytes(of: name.sin6_addr) {
    (
      UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
      UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
      UInt16(bigEndian: name.sin6_port)
    )
  }
}
