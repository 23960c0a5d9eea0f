#if canImport(Glibc)
  import Glibc
#endif

/// One IPv6 forwarding entry of the udp backend: inner packets for `high:low/prefixLength` (a
/// lease's IPv6 subnet) go to `underlay:port` — on a dual-stack network that lease's IPv4
/// PublicIP (the underlay stays IPv4), on an IPv6-only network its PublicIPv6. Host byte order.
public struct IPv6ForwardingRoute: Equatable, Sendable {
  public var high: UInt64
  public var low: UInt64
  public var prefixLength: Int
  public var underlay: UnderlayAddress
  public var port: UInt16

  public init(
    high: UInt64, low: UInt64, prefixLength: Int, underlay: UnderlayAddress, port: UInt16
  ) {
    self.high = high
    self.low = low
    self.prefixLength = prefixLength
    self.underlay = underlay
    self.port = port
  }

  /// A route over the IPv4 underlay to `nextHop` (host order).
  public init(high: UInt64, low: UInt64, prefixLength: Int, nextHop: UInt32, port: UInt16) {
    self.init(
      high: high, low: low, prefixLength: prefixLength, underlay: .ipv4(nextHop), port: port)
  }

  /// The IPv4 next hop (0 for an IPv6 one).
  public var nextHop: UInt32 {
    if case .ipv4(let address) = underlay { return address }
    return 0
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
  private let addresses: UnsafeMutablePointer<NextHop>
  /// Per route: its next hop as 128 bits (`UnderlayAddress.mapped`), for the source check.
  private let senderHighs: UnsafeMutablePointer<UInt64>
  private let senderLows: UnsafeMutablePointer<UInt64>
  /// The distinct IPv6 next hops, sorted (high, low): known senders on an IPv6 underlay, and
  /// each one's position is its ordinal in `NextHop.key`.
  private let underlayHighs: UnsafeMutablePointer<UInt64>
  private let underlayLows: UnsafeMutablePointer<UInt64>
  private let underlayCount: Int
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
    senderHighs = .allocate(capacity: count)
    senderLows = .allocate(capacity: count)
    var underlays: [(high: UInt64, low: UInt64)] = []
    for route in sorted {
      if case .ipv6(let high, let low) = route.underlay { underlays.append((high, low)) }
    }
    underlays.sort { ($0.high, $0.low) < ($1.high, $1.low) }
    var ordinals: [UnderlayAddress: Int] = [:]
    underlayHighs = .allocate(capacity: max(underlays.count, 1))
    underlayLows = .allocate(capacity: max(underlays.count, 1))
    var unique = 0
    for peer in underlays
    where unique == 0 || (underlayHighs[unique - 1], underlayLows[unique - 1]) != peer {
      underlayHighs[unique] = peer.high
      underlayLows[unique] = peer.low
      ordinals[.ipv6(high: peer.high, low: peer.low)] = unique
      unique += 1
    }
    underlayCount = unique
    var starts: [Int] = []
    var ends: [Int] = []
    for (i, route) in sorted.enumerated() {
      highs[i] = route.high
      lows[i] = route.low
      switch route.underlay {
      case .ipv4(let address):
        addresses[i] = .ipv4(address, route.port)
      case .ipv6(let high, let low):
        addresses[i] = .ipv6(
          high: high, low: low, port: route.port, ordinal: ordinals[route.underlay] ?? 0)
      }
      (senderHighs[i], senderLows[i]) = route.underlay.mapped
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
    senderHighs.deallocate()
    senderLows.deallocate()
    underlayHighs.deallocate()
    underlayLows.deallocate()
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

  /// The ready next hop of route `index` (from `index(high:low:)`, ≥ 0).
  @inline(__always)
  func nextHop(at index: Int) -> UnsafePointer<NextHop> { UnsafePointer(addresses + index) }

  /// The IPv4 next hop (a PublicIP, host order) of route `index`; 0 for an IPv6 one.
  public func nextHopAddress(at index: Int) -> UInt32 { routes[index].nextHop }

  /// The route an address takes, for tests and diagnostics.
  public func route(high: UInt64, low: UInt64) -> IPv6ForwardingRoute? {
    let i = index(high: high, low: low)
    return i < 0 ? nil : routes[i]
  }

  /// True when a packet from `high:low` may come from the peer at `sender` (host order, over
  /// the IPv4 underlay): the source lies in an IPv6 subnet whose route leads to that PublicIP
  /// (any port).
  @inline(__always)
  public func isSource(high: UInt64, low: UInt64, of sender: UInt32) -> Bool {
    isSource(high: high, low: low, ofHigh: 0, ofLow: UnderlayAddress.mappedPrefix | UInt64(sender))
  }

  /// The same for a sender given as 128 bits (`UnderlayAddress.mapped`): over the IPv6
  /// underlay, the peer's PublicIPv6.
  @inline(__always)
  public func isSource(
    high: UInt64, low: UInt64, ofHigh senderHigh: UInt64, ofLow senderLow: UInt64
  )
    -> Bool
  {
    let i = index(high: high, low: low)
    return i >= 0 && senderLows[i] == senderLow && senderHighs[i] == senderHigh
  }

  /// True when `high:low` is the IPv6 next hop of some route: a datagram from there comes from
  /// a known lease's PublicIPv6 (any port).
  @inline(__always)
  public func isKnownUnderlaySource(high: UInt64, low: UInt64) -> Bool {
    var first = 0
    var last = underlayCount
    while first < last {
      let mid = (first &+ last) >> 1
      if underlayHighs[mid] < high || (underlayHighs[mid] == high && underlayLows[mid] < low) {
        first = mid &+ 1
      } else {
        last = mid
      }
    }
    return first < underlayCount && underlayHighs[first] == high && underlayLows[first] == low
  }
}

/// A network and prefix length, the table's deduplication key.
private struct IPv6Key: Hashable {
  var high: UInt64
  var low: UInt64
  var prefixLength: Int
}
