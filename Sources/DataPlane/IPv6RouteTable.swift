#if canImport(Glibc)
  import Glibc
#endif

/// One IPv6 forwarding entry of the udp backend on a dual-stack network: inner packets for
/// `high:low/prefixLength` (a lease's IPv6 subnet) go to `nextHop:port` (that lease's IPv4
/// PublicIP: the underlay stays IPv4). Host byte order.
public struct IPv6ForwardingRoute: Equatable, Sendable {
  public var high: UInt64
  public var low: UInt64
  public var prefixLength: Int
  public var nextHop: UInt32
  public var port: UInt16

  public init(high: UInt64, low: UInt64, prefixLength: Int, nextHop: UInt32, port: UInt16) {
    self.high = high
    self.low = low
    self.prefixLength = prefixLength
    self.nextHop = nextHop
    self.port = port
  }

  /// The mask's two halves.
  public var mask: (high: UInt64, low: UInt64) { IPv6RouteTable.mask(prefixLength) }
}

/// The IPv6 half of a `RouteSnapshot`: immutable, built by the control plane, looked up per
/// packet in memory the table owns (no Swift arrays on the lookup, so no retain/release).
///
/// Longest prefix wins. Routes are grouped by prefix length (a cluster's leases share one:
/// usually a single group), each group sorted by network: a lookup masks the destination once
/// per group, longest first, and binary-searches it — O(groups · log N).
public final class IPv6RouteTable: @unchecked Sendable {
  // @unchecked: every stored property is written only in init and freed in deinit.
  public let routes: [IPv6ForwardingRoute]
  private let highs: UnsafeMutablePointer<UInt64>
  private let lows: UnsafeMutablePointer<UInt64>
  private let addresses: UnsafeMutablePointer<sockaddr_in>
  private let nextHops: UnsafeMutablePointer<UInt32>
  /// Per group: its first route, one past its last, and its mask.
  private let groupCount: Int
  private let groupStarts: UnsafeMutablePointer<Int>
  private let groupEnds: UnsafeMutablePointer<Int>
  private let groupMaskHighs: UnsafeMutablePointer<UInt64>
  private let groupMaskLows: UnsafeMutablePointer<UInt64>

  public static let empty = IPv6RouteTable([])

  /// Builds the table. Duplicate networks keep the last entry (as `RouteSnapshot`); host bits
  /// are cleared; prefixes outside 0…128 are ignored.
  public init(_ input: [IPv6ForwardingRoute]) {
    var byNetwork: [IPv6Key: IPv6ForwardingRoute] = [:]
    for var route in input where (0...128).contains(route.prefixLength) {
      let mask = route.mask
      route.high &= mask.high
      route.low &= mask.low
      byNetwork[IPv6Key(high: route.high, low: route.low, prefixLength: route.prefixLength)] =
        route
    }
    let sorted = byNetwork.values.sorted {
      $0.prefixLength != $1.prefixLength
        ? $0.prefixLength > $1.prefixLength : ($0.high, $0.low) < ($1.high, $1.low)
    }
    routes = sorted
    let count = max(sorted.count, 1)
    highs = .allocate(capacity: count)
    lows = .allocate(capacity: count)
    addresses = .allocate(capacity: count)
    nextHops = .allocate(capacity: count)
    var starts: [Int] = []
    var ends: [Int] = []
    for (i, route) in sorted.enumerated() {
      highs[i] = route.high
      lows[i] = route.low
      addresses[i] = makeSocketAddress(route.nextHop, route.port)
      nextHops[i] = route.nextHop
      if i == 0 || sorted[i - 1].prefixLength != route.prefixLength {
        if i > 0 { ends.append(i) }
        starts.append(i)
      }
    }
    if !sorted.isEmpty { ends.append(sorted.count) }
    groupCount = starts.count
    groupStarts = .allocate(capacity: max(groupCount, 1))
    groupEnds = .allocate(capacity: max(groupCount, 1))
    groupMaskHighs = .allocate(capacity: max(groupCount, 1))
    groupMaskLows = .allocate(capacity: max(groupCount, 1))
    for g in 0..<groupCount {
      groupStarts[g] = starts[g]
      groupEnds[g] = ends[g]
      let mask = sorted[starts[g]].mask
      groupMaskHighs[g] = mask.high
      groupMaskLows[g] = mask.low
    }
  }

  deinit {
    highs.deallocate()
    lows.deallocate()
    addresses.deallocate()
    nextHops.deallocate()
    groupStarts.deallocate()
    groupEnds.deallocate()
    groupMaskHighs.deallocate()
    groupMaskLows.deallocate()
  }

  public var isEmpty: Bool { routes.isEmpty }

  /// The mask of a prefix length (0…128) as two halves.
  @inline(__always)
  static func mask(_ prefixLength: Int) -> (high: UInt64, low: UInt64) {
    if prefixLength <= 0 { return (0, 0) }
    if prefixLength >= 128 { return (.max, .max) }
    if prefixLength <= 64 { return (UInt64.max << UInt64(64 - prefixLength), 0) }
    return (.max, UInt64.max << UInt64(128 - prefixLength))
  }

  /// Index of the longest matching route for the address `high:low`, or -1.
  @inline(__always)
  public func index(high: UInt64, low: UInt64) -> Int {
    var g = 0
    while g < groupCount {
      let keyHigh = high & groupMaskHighs[g]
      let keyLow = low & groupMaskLows[g]
      var first = groupStarts[g]
      var last = groupEnds[g]
      while first < last {
        let mid = (first &+ last) >> 1
        if highs[mid] < keyHigh || (highs[mid] == keyHigh && lows[mid] < keyLow) {
          first = mid &+ 1
        } else {
          last = mid
        }
      }
      if first < groupEnds[g] && highs[first] == keyHigh && lows[first] == keyLow {
        return first
      }
      g &+= 1
    }
    return -1
  }

  /// The ready socket address of route `index` (from `index(high:low:)`, ≥ 0).
  @inline(__always)
  func nextHop(at index: Int) -> UnsafePointer<sockaddr_in> { UnsafePointer(addresses + index) }

  /// The next hop (a PublicIP, host order) of route `index`.
  @inline(__always)
  public func nextHopAddress(at index: Int) -> UInt32 { nextHops[index] }

  /// The route an address takes, for tests and diagnostics.
  public func route(high: UInt64, low: UInt64) -> IPv6ForwardingRoute? {
    let i = index(high: high, low: low)
    return i < 0 ? nil : routes[i]
  }

  /// True when a packet from `high:low` may come from the peer at `sender` (host order): the
  /// source lies in an IPv6 subnet whose route leads to that PublicIP (any port).
  @inline(__always)
  public func isSource(high: UInt64, low: UInt64, of sender: UInt32) -> Bool {
    let i = index(high: high, low: low)
    return i >= 0 && nextHops[i] == sender
  }
}

/// A network and prefix length, the table's deduplication key.
private struct IPv6Key: Hashable {
  var high: UInt64
  var low: UInt64
  var prefixLength: Int
}
