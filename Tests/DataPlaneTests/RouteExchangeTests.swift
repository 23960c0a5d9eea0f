import Dispatch
import Synchronization
import Testing

@testable import DataPlane

@Suite struct RouteExchangeTests {
  static func table(_ marker: UInt32) -> RouteSnapshot {
    RouteSnapshot([Route(network: ip(10, 1, 2, 0), prefixLength: 24, nextHop: marker, port: 1)])
  }

  /// A retired snapshot survives while the forwarder still announces it, and is released once
  /// the forwarder has moved on and the next update comes.
  @Test func retiredSnapshotLivesUntilTheForwarderMovesOn() {
    weak var first: RouteSnapshot?
    weak var second: RouteSnapshot?
    let exchange: RouteExchange
    do {
      let s1 = Self.table(1)
      first = s1
      exchange = RouteExchange(s1)
    }
    let p1 = exchange.acquire(cached: 0)
    #expect(exchange.snapshot(p1).route(for: ip(10, 1, 2, 3))?.nextHop == 1)

    do {
      let s2 = Self.table(2)
      second = s2
      exchange.publish(s2)
    }
    #expect(first != nil, "still the forwarder's hazard")
    #expect(exchange.latest().route(for: ip(10, 1, 2, 3))?.nextHop == 2)

    let p2 = exchange.acquire(cached: p1)
    #expect(p2 != p1)
    #expect(exchange.snapshot(p2).route(for: ip(10, 1, 2, 3))?.nextHop == 2)
    #expect(exchange.acquire(cached: p2) == p2, "unchanged: fast path")

    exchange.publish(Self.table(3))
    #expect(first == nil, "released once no longer in use")
    #expect(second != nil, "the forwarder is still on it")
  }

  /// A reader thread keeps acquiring and using snapshots while the control plane publishes
  /// thousands: every snapshot the reader holds must be intact (a freed one would crash or
  /// answer garbage).
  @Test func concurrentPublishAndAcquire() {
    let exchange = RouteExchange(Self.table(0))
    let done = Atomic<Bool>(false)
    let bad = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
      var cached: UInt = 0
      while !done.load(ordering: .relaxed) {
        cached = exchange.acquire(cached: cached)
        let snapshot = exchange.snapshot(cached)
        let hop = snapshot.route(for: ip(10, 1, 2, 9))?.nextHop ?? .max
        if snapshot.route(for: ip(10, 1, 2, 200))?.nextHop != hop || hop == .max {
          bad.add(1, ordering: .relaxed)
        }
        reads.add(1, ordering: .relaxed)
      }
    }
    for marker in 1...5_000 { exchange.publish(Self.table(UInt32(marker))) }
    while reads.load(ordering: .relaxed) < 1_000 {}
    done.store(true, ordering: .relaxed)
    group.wait()
    #expect(bad.load(ordering: .relaxed) == 0)
    #expect(exchange.latest().route(for: ip(10, 1, 2, 1))?.nextHop == 5_000)
  }
}
