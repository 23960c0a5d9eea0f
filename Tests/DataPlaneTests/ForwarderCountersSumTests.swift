import Testing

@testable import DataPlane

@Suite struct ForwarderCountersSumTests {
  /// Every stored counter takes part in the sum: a counter added to the struct but not to
  /// `fields` fails here.
  @Test func fieldsCoverEveryStoredCounter() {
    let stored = Mirror(reflecting: ForwarderCounters()).children.count
    #expect(ForwarderCounters.fields.count == stored)
    let distinct = Set(ForwarderCounters.fields.map { $0 as AnyKeyPath })
    #expect(distinct.count == stored)
  }

  @Test func sumAddsEveryField() {
    var a = ForwarderCounters()
    var b = ForwarderCounters()
    for (i, field) in ForwarderCounters.fields.enumerated() {
      a[keyPath: field] = UInt64(i + 1)
      b[keyPath: field] = UInt64(100 * (i + 1))
    }
    let sum = ForwarderCounters.sum([a, b, ForwarderCounters()])
    for (i, field) in ForwarderCounters.fields.enumerated() {
      #expect(sum[keyPath: field] == UInt64(101 * (i + 1)))
    }
    #expect(sum.packetsMoved == a.packetsMoved + b.packetsMoved)
    #expect(ForwarderCounters.sum([]) == ForwarderCounters())
  }
}
