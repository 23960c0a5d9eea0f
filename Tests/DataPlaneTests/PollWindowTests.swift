import Testing

@testable import DataPlane

/// The poll window's rules, sleep by sleep.
@Suite struct PollWindowTests {
  @Test func offStaysOff() {
    var window = PollWindow(maximumNanoseconds: 0)
    for sleep: UInt64 in [0, 10, 1_000_000] {
      window.slept(sleep)
      #expect(window.current == 0)
      #expect(!window.shouldPoll(afterActiveBatch: true))
    }
  }

  @Test func pollsOnlyAfterABatchThatMovedSomething() {
    let window = PollWindow(maximumNanoseconds: 50_000)
    #expect(window.current == 50_000)
    #expect(window.shouldPoll(afterActiveBatch: true))
    #expect(!window.shouldPoll(afterActiveBatch: false))
  }

  /// Long sleeps (a peer that answers in milliseconds, or none) halve the window until it
  /// closes below an eighth of the maximum; one wake-up within the maximum reopens it at a
  /// quarter, and more double it back to the maximum, never past it.
  @Test func longSleepsCloseItShortOnesReopenIt() {
    var window = PollWindow(maximumNanoseconds: 80_000)
    var seen: [UInt64] = []
    for sleep: UInt64 in [10_000_000, 10_000_000, 10_000_000, 10_000_000] {
      window.slept(sleep)
      seen.append(window.current)
    }
    #expect(seen == [40_000, 20_000, 10_000, 0])
    #expect(!window.shouldPoll(afterActiveBatch: true))
    seen = []
    for sleep: UInt64 in [30_000, 80_000, 1_000, 5_000] {
      window.slept(sleep)
      seen.append(window.current)
    }
    #expect(seen == [20_000, 40_000, 80_000, 80_000])
  }

  /// A peer that answers just past the maximum is not worth polling for.
  @Test func aSleepJustPastTheMaximumShrinks() {
    var window = PollWindow(maximumNanoseconds: 80_000)
    window.slept(80_001)
    #expect(window.current == 40_000)
    window.slept(80_000)
    #expect(window.current == 80_000)
  }

  /// Pings every 10 ms through a forwarder: each answer is caught by a poll, each pause
  /// between pings ends a long sleep. The window stays open (a caught answer grows it as a
  /// short sleep would); counting the long sleeps alone closed it within four pings.
  @Test func caughtAnswersKeepItOpenBetweenSparseRequests() {
    var window = PollWindow(maximumNanoseconds: 200_000)
    for _ in 0..<100 {
      window.caught()
      window.slept(10_000_000)
      #expect(window.current >= 100_000)
    }
    #expect(window.shouldPoll(afterActiveBatch: true))
    // Without answers (one-way traffic every 10 ms) it still closes.
    for _ in 0..<3 { window.slept(10_000_000) }
    #expect(window.current == 0)
    // And a caught completion reopens a closed window at a quarter.
    window.caught()
    #expect(window.current == 50_000)
    var off = PollWindow(maximumNanoseconds: 0)
    off.caught()
    #expect(off.current == 0)
  }
}
