/// Routes kept in `RouteSnapshot.precedes` order, one per network, so that a snapshot is built
/// from them without sorting (`RouteSnapshot(ordered:)`). An insert or removal finds its place
/// by binary search and moves the tail: O(N) moves of 24-byte values, not a sort.
public struct OrderedRoutes: Sendable, Equatable {
  public private(set) var routes: [Route] = []
  /// Every route's `nextHop << 16 | port`, sorted, repeated once per route: the snapshot's
  /// source check takes them without sorting.
  public private(set) var nextHops: [UInt64] = []

  public init() {}

  public var count: Int { routes.count }

  /// Adds `route`, or replaces the route of the same network and prefix length. Returns false
  /// when an identical route was already there (nothing changed). Host bits are cleared.
  @discardableResult
  public mutating func upsert(_ route: Route) -> Bool {
    var route = route
    route.network &= route.mask
    let (index, found) = position(of: route)
    if found {
      guard routes[index] != route else { return false }
      removeNextHop(of: routes[index])
      routes[index] = route
    } else {
      routes.insert(route, at: index)
    }
    nextHops.insert(
      Self.nextHopKey(route), at: Self.lowerBound(Self.nextHopKey(route), in: nextHops))
    return true
  }

  /// Removes the route of `network`/`prefixLength`; false when there was none.
  @discardableResult
  public mutating func remove(network: UInt32, prefixLength: Int) -> Bool {
    let probe = Route(network: network, prefixLength: prefixLength, nextHop: 0, port: 0)
    let key = Route(
      network: network & probe.mask, prefixLength: prefixLength, nextHop: 0, port: 0)
    let (index, found) = position(of: key)
    guard found else { return false }
    removeNextHop(of: routes[index])
    routes.remove(at: index)
    return true
  }

  static func nextHopKey(_ route: Route) -> UInt64 {
    UInt64(route.nextHop) << 16 | UInt64(route.port)
  }

  private mutating func removeNextHop(of route: Route) {
    let key = Self.nextHopKey(route)
    nextHops.remove(at: Self.lowerBound(key, in: nextHops))
  }

  /// The first index whose key is ≥ `key`.
  static func lowerBound(_ key: UInt64, in keys: [UInt64]) -> Int {
    var low = 0
    var high = keys.count
    while low < high {
      let mid = (low + high) / 2
      if keys[mid] < key { low = mid + 1 } else { high = mid }
    }
    return low
  }

  /// Where a route of `route`'s network and prefix length is or would go.
  private func position(of route: Route) -> (index: Int, found: Bool) {
    var low = 0
    var high = routes.count
    while low < high {
      let mid = (low + high) / 2
      if RouteSnapshot.precedes(routes[mid], route) { low = mid + 1 } else { high = mid }
    }
    let found =
      low < routes.count && routes[low].network == route.network
      && routes[low].prefixLength == route.prefixLength
    return (low, found)
  }
}
