#if canImport(Glibc)
  import Glibc
#endif

/// One forwarding entry: packets for `network/prefixLength` go to `nextHop:port` over UDP.
/// Addresses are host byte order.
public struct Route: Equatable, Sendable {
  public var network: UInt32
  public var prefixLength: Int
  public var nextHop: UInt32
  public var port: UInt16

  public init(network: UInt32, prefixLength: Int, nextHop: UInt32, port: UInt16) {
    self.network = network
    self.prefixLength = prefixLength
    self.nextHop = nextHop
    self.port = port
  }

  public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength) }
}

/// An immutable subnet → next-hop table, built once by the control plane and swapped into a
/// running Forwarder whole. Lookups touch only memory owned by the snapshot (no Swift arrays,
/// so no retain/release per packet).
///
/// Longest prefix wins. flannel's usual shape — /24 leases inside one /16 network — is
/// served by a 256-entry array indexed by the third octet (one load); anything else (another
/// /16, a prefix longer than /24 inside the fast /16) falls back to a scan of the entries
/// sorted longest prefix first.
public final class RouteSnapshot: @unchecked Sendable {
  // @unchecked: every stored property is written only in init and freed in deinit.
  public let routes: [Route]
  private let count: Int
  private let networks: UnsafeMutablePointer<UInt32>
  private let masks: UnsafeMutablePointer<UInt32>
  private let addresses: UnsafeMutablePointer<NextHop>
  /// `fastNetwork` is the /16 (host order, low bits zero) covered by `fastIndex`.
  private let fastNetwork: UInt32
  /// Per third octet: route index, `-1` no route, `-2` scan needed (a longer-than-/24 route).
  private let fastIndex: UnsafeMutablePointer<Int32>
  /// Route next hops, `address << 16 | port`, sorted for a binary search by address.
  private let sources: UnsafeMutablePointer<UInt64>
  private let sourceCount: Int
  /// The IPv6 subnets of the leases on a dual-stack network (empty otherwise).
  public let ipv6: IPv6RouteTable

  public static let empty = RouteSnapshot([])

  /// Builds the table. Duplicate networks keep the last entry (like flannel's SET_ROUTE, which
  /// replaces the next hop of an existing identical subnet). Host bits of `network` are ignored.
  public convenience init(_ input: [Route], ipv6: IPv6RouteTable = .empty) {
    var byNetwork: [UInt64: Route] = [:]
    var order: [UInt64] = []
    for var route in input where (0...32).contains(route.prefixLength) {
      route.network &= route.mask
      let key = UInt64(route.network) << 8 | UInt64(route.prefixLength)
      if byNetwork.updateValue(route, forKey: key) == nil { order.append(key) }
    }
    let sorted = order.map { byNetwork[$0]! }.sorted(by: Self.precedes)
    self.init(
      ordered: sorted, nextHops: sorted.map(OrderedRoutes.nextHopKey).sorted(), ipv6: ipv6)
  }

  /// The snapshot of `table` (and on a dual-stack network the IPv6 routes).
  public convenience init(_ table: OrderedRoutes, ipv6: IPv6RouteTable = .empty) {
    self.init(ordered: table.routes, nextHops: table.nextHops, ipv6: ipv6)
  }

  /// The order lookups scan in: longest prefix first, then by network.
  public static func precedes(_ a: Route, _ b: Route) -> Bool {
    a.prefixLength != b.prefixLength ? a.prefixLength > b.prefixLength : a.network < b.network
  }

  /// Builds the table from routes already in `precedes` order, each network once with its
  /// host bits clear, and their next-hop keys sorted (`OrderedRoutes` keeps both so): O(N)
  /// copies, no sorting.
  init(ordered sorted: [Route], nextHops keys: [UInt64], ipv6: IPv6RouteTable = .empty) {
    routes = sorted
    self.ipv6 = ipv6
    count = sorted.count
    networks = .allocate(capacity: max(count, 1))
    masks = .allocate(capacity: max(count, 1))
    addresses = .allocate(capacity: max(count, 1))
    for (i, route) in sorted.enumerated() {
      networks[i] = route.network
      masks[i] = route.mask
      addresses[i] = .ipv4(route.nextHop, route.port)
    }

    fastNetwork = Self.busiestSlash16(sorted)
    fastIndex = .allocate(capacity: 256)
    fastIndex.initialize(repeating: -1, count: 256)
    // Paint each route over the third octets it covers, shortest prefix first, so a longer
    // prefix overwrites a shorter one (longest match); then mark the octets that hold a
    // route longer than /24 for a scan. One pass over the routes.
    for index in sorted.indices.reversed() {
      let route = sorted[index]
      if route.prefixLength <= 16 {
        if fastNetwork & route.mask == route.network {
          fastIndex.update(repeating: Int32(index), count: 256)
        }
      } else if route.network & 0xffff_0000 == fastNetwork, route.prefixLength <= 24 {
        let first = Int(route.network >> 8 & 0xff)
        let span = 1 << (24 - route.prefixLength)
        (fastIndex + first).update(repeating: Int32(index), count: span)
      }
    }
    for route in sorted where route.prefixLength > 24 && route.network & 0xffff_0000 == fastNetwork
    {
      fastIndex[Int(route.network >> 8 & 0xff)] = -2
    }

    // Next hops, unique, for the source check.
    sources = .allocate(capacity: max(keys.count, 1))
    var unique = 0
    for key in keys where unique == 0 || sources[unique - 1] != key {
      sources[unique] = key
      unique += 1
    }
    sourceCount = unique
  }

  /// The same from plain tuples (network and next hop in host byte order).
  public convenience init(
    entries: [(network: UInt32, prefix: Int, nextHop: UInt32, port: UInt16)]
  ) {
    self.init(
      entries.map {
        Route(network: $0.network, prefixLength: $0.prefix, nextHop: $0.nextHop, port: $0.port)
      })
  }

  deinit {
    networks.deallocate()
    masks.deallocate()
    addresses.deallocate()
    fastIndex.deallocate()
    sources.deallocate()
  }

  /// The /16 holding the most routes of prefix 16…32 (the lowest of equals); 0 when there is
  /// none (harmless: the fast table then still answers correctly for 0.0.x.x). Routes of one
  /// prefix length are sorted by network, so one /16's routes of that length are a run: one
  /// dictionary update per run, not per route.
  private static func busiestSlash16(_ routes: [Route]) -> UInt32 {
    var counts: [UInt32: Int] = [:]
    var run: (key: UInt32, length: Int, count: Int)? = nil
    for route in routes where route.prefixLength >= 16 {
      let key = route.network & 0xffff_0000
      if let current = run, current.key == key, current.length == route.prefixLength {
        run!.count += 1
        continue
      }
      if let done = run { counts[done.key, default: 0] += done.count }
      run = (key, route.prefixLength, 1)
    }
    if let done = run { counts[done.key, default: 0] += done.count }
    return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
  }

  /// Index of the longest matching route for `destination` (host order), or -1.
  @inline(__always)
  public func index(for destination: UInt32) -> Int {
    if destination & 0xffff_0000 == fastNetwork {
      let hit = Int(fastIndex[Int(destination >> 8 & 0xff)])
      if hit != -2 { return hit }
    }
    var i = 0
    while i < count {
      if destination & masks[i] == networks[i] { return i }
      i &+= 1
    }
    return -1
  }

  /// The next hop's socket address for `destination`, or nil when there is no route (for
  /// tests and benchmarks: the forwarder sends from `nextHop(at:)`).
  @inline(__always)
  public func nextHop(for destination: UInt32) -> sockaddr_in? {
    let i = index(for: destination)
    return i < 0 ? nil : addresses[i].ipv4Address
  }

  /// The ready next hop of route `index` (from `index(for:)`, ≥ 0).
  @inline(__always)
  func nextHop(at index: Int) -> UnsafePointer<NextHop> { UnsafePointer(addresses + index) }

  /// The route a destination takes, for tests and diagnostics.
  public func route(for destination: UInt32) -> Route? {
    let i = index(for: destination)
    return i < 0 ? nil : routes[i]
  }

  /// True when `address` (host order) is the next hop of some route: a datagram from there
  /// comes from a known lease's PublicIP. Any source port: a peer with several forwarder
  /// workers sends from the shared port and from ephemeral ones.
  @inline(__always)
  public func isKnownSource(address: UInt32) -> Bool {
    // The first key ≥ `address << 16` is the smallest port of that address, if it has any.
    let key = UInt64(address) << 16
    var low = 0
    var high = sourceCount
    while low < high {
      let mid = (low &+ high) >> 1
      if sources[mid] < key { low = mid &+ 1 } else { high = mid }
    }
    return low < sourceCount && sources[low] >> 16 == UInt64(address)
  }
}

/// A `sockaddr_in` for a host-order address and port.
func makeSocketAddress(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
  var storage = sockaddr_in()
  storage.sin_family = sa_family_t(AF_INET)
  storage.sin_port = port.bigEndian
  storage.sin_addr.s_addr = address.bigEndian
  return storage
}
