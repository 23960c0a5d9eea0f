import DataPlane
import Testing

/// OrderedRoutes kept by single inserts and removals gives the same snapshot as building one
/// from the final set of routes.
@Suite struct OrderedRoutesTests {
  @Test func randomChangesEndInTheSnapshotOfTheFinalSet() {
    var rng = SplitMix64(state: 42)
    var ordered = OrderedRoutes()
    var model: [UInt64: Route] = [:]  // network << 8 | prefix → route
    for _ in 0..<5_000 {
      let prefix = [16, 20, 24, 24, 24, 25, 32].randomElement(using: &rng)!
      let network = UInt32(0x0A00_0000) | UInt32.random(in: 0..<0x4_0000, using: &rng) << 8
      let probe = Route(network: network, prefixLength: prefix, nextHop: 0, port: 0)
      let key = UInt64(network & probe.mask) << 8 | UInt64(prefix)
      if model[key] != nil && Bool.random(using: &rng) {
        let removed = ordered.remove(network: network, prefixLength: prefix)
        #expect(removed)
        model[key] = nil
      } else {
        let route = Route(
          network: network, prefixLength: prefix,
          nextHop: UInt32.random(in: 0xC0A8_0000...0xC0A8_FFFF, using: &rng), port: 8285)
        var cleared = route
        cleared.network &= cleared.mask
        let expected = model[key] != cleared
        #expect(ordered.upsert(route) == expected)
        model[key] = cleared
      }
    }
    let absent = ordered.remove(network: 0x0B00_0000, prefixLength: 24)
    #expect(!absent)
    let whole = RouteSnapshot(Array(model.values))
    let incremental = RouteSnapshot(ordered)
    #expect(incremental.routes == whole.routes)
    #expect(ordered.count == model.count)
    #expect(ordered.nextHops == model.values.map { UInt64($0.nextHop) << 16 | 8285 }.sorted())
    for _ in 0..<20_000 {
      let destination = 0x0A00_0000 | UInt32.random(in: 0..<0x0100_0000, using: &rng)
      #expect(incremental.route(for: destination) == whole.route(for: destination))
    }
    for route in model.values.prefix(500) {
      #expect(incremental.isKnownSource(address: route.nextHop))
    }
    #expect(!incremental.isKnownSource(address: 0x0102_0304))
  }
}
