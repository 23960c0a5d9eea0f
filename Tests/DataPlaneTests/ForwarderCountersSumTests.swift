import Testing

@testable import DataPlane

@Suite struct ForwarderCountersSumTests {
  /// Every counter has its own name (the /metrics family and the scripts' key) and a help
  /// text: a case added without them, or with a name already taken, fails here.
  @Test func everyCounterHasADistinctNameAndHelp() {
    let names = Counter.allCases.map(\.info.name)
    #expect(Set(names).count == Counter.allCases.count)
    #expect(Set(Counter.allCases.map(\.metricName)).count == Counter.allCases.count)
    for counter in Counter.allCases {
      let name = counter.info.name
      #expect(
        !name.isEmpty && name.allSatisfy { ("a"..."z").contains($0) || $0 == "_" || $0.isNumber },
        "\(counter): name \(name) is not snake_case")
      #expect(counter.info.help.hasSuffix("."), "\(counter): help \(counter.info.help)")
    }
    // Each summary series is fed by one counter only.
    let series = Counter.allCases.compactMap(\.info.series).map {
      $0.family.name + $0.labels.sorted { $0.key < $1.key }.description
    }
    #expect(Set(series).count == series.count)
  }

  @Test func sumAddsEveryField() {
    var a = ForwarderCounters()
    var b = ForwarderCounters()
    for (i, counter) in Counter.allCases.enumerated() {
      a[counter] = UInt64(i + 1)
      b[counter] = UInt64(100 * (i + 1))
    }
    let sum = ForwarderCounters.sum([a, b, ForwarderCounters()])
    for (i, counter) in Counter.allCases.enumerated() {
      #expect(sum[counter] == UInt64(101 * (i + 1)))
    }
    #expect(sum.packetsMoved == a.packetsMoved + b.packetsMoved)
    #expect(ForwarderCounters.sum([]) == ForwarderCounters())
  }

  /// The bank publishes and snapshots every slot, each into its own counter.
  @Test func bankSnapshotsEveryCounter() {
    let bank = CounterBank()
    for (i, counter) in Counter.allCases.enumerated() { bank.add(counter, UInt64(i + 1)) }
    #expect(bank.snapshot() == ForwarderCounters())
    bank.publish()
    let snapshot = bank.snapshot()
    for (i, counter) in Counter.allCases.enumerated() {
      #expect(snapshot[counter] == UInt64(i + 1))
    }
  }
}
