import Testing
import WireGuard

@Suite struct ReplayWindowTests {
  /// Feeds `counters` in order and returns which were accepted.
  static func run(_ counters: [UInt64], into window: inout ReplayWindow) -> [Bool] {
    counters.map { window.accept($0) }
  }

  static func run(_ counters: [UInt64]) -> [Bool] {
    var window = ReplayWindow()
    return run(counters, into: &window)
  }

  static let size = ReplayWindow.windowSize  // 8128

  @Test func windowIsAtLeastTheProtocols2000() {
    #expect(ReplayWindow.windowSize >= 2000)
    #expect(ReplayWindow.windowSize == 8128)
  }

  @Test(
    arguments: [
      ("in order from 0", [0, 1, 2, 3, 4], [true, true, true, true, true]),
      ("duplicates", [0, 1, 1, 0, 2, 2], [true, true, false, false, true, false]),
      (
        "out of order within the window", [5, 3, 4, 0, 1, 2, 5],
        [true, true, true, true, true, true, false]
      ),
      ("first counter need not be 0", [100, 0, 100, 99], [true, true, false, true]),
      (
        "exactly windowSize below the highest is still in",
        [size + 10, 10, 9], [true, true, false]
      ),
      (
        "just past the window after a jump",
        [0, size + 1, 0, 1, 2], [true, true, false, true, true]
      ),
      (
        "a jump of more than the whole bitmap forgets everything",
        [1, 2, 3, 1_000_000, 1, 999_999, 1_000_000 - size, 1_000_000 - size - 1],
        [true, true, true, true, false, true, true, false]
      ),
      (
        "a counter behind the window after a jump is too old even if unseen",
        [20_000, 20_000 - size - 1, 20_000 - size], [true, false, true]
      ),
    ] as [(String, [UInt64], [Bool])])
  func acceptsEachCounterOnceWithinTheWindow(_ name: String, counters: [UInt64], expected: [Bool]) {
    #expect(Self.run(counters) == expected, "\(name)")
  }

  @Test func bitmapRingWrapsAroundManyTimes() {
    // Slide through 10 bitmaps' worth of counters in steps that cross word boundaries; each
    // is new once, and a replay of everything still in the window is refused.
    var window = ReplayWindow()
    let counters = Array(stride(from: UInt64(0), to: 10 * 8192, by: 37))
    let firstTime = Self.run(counters, into: &window)
    #expect(firstTime.allSatisfy { $0 })
    let highest = counters.last!
    let inWindow = counters.filter { highest - $0 <= Self.size }
    #expect(inWindow.count > 200)
    let replayed = Self.run(inWindow, into: &window)
    #expect(replayed.allSatisfy { !$0 })
    // Unseen counters between them, still in the window, are accepted once; one past the
    // window's edge is not.
    let between = Self.run(
      [highest - 1, highest - 1, highest - Self.size, highest - Self.size - 1], into: &window)
    #expect(between == [true, false, true, false])
  }

  @Test func forwardJumpClearsOnlyTheWordsItPasses() {
    var window = ReplayWindow()
    let first = Self.run([63, 64, 127, 128, 200], into: &window)
    #expect(first == [true, true, true, true, true])
    // After a jump of one word the words of 63–128 are still inside the window and remember.
    let again = Self.run([63, 64, 127, 128, 129], into: &window)
    #expect(again == [false, false, false, false, true])
    // A word whose slot in the ring is reused for a far counter was cleared first.
    let far = Self.run([128 + 8192, 128 + 8192 - 64, 128 + 8192 - 64], into: &window)
    #expect(far == [true, true, false])
  }

  @Test func refusesCountersAtTheLimitAndHoldsUpToIt() {
    let limit = UInt64.max - 8192  // 2^64 − 2^13 − 1
    #expect(Limits.rejectAfterMessages == limit)
    var window = ReplayWindow()
    let atLimit = Self.run([limit, UInt64.max], into: &window)
    #expect(atLimit == [false, false])
    #expect(window.highest == 0)
    let below = Self.run(
      [limit - 1, limit - 1, limit - 2, limit - 1 - Self.size, limit - 2 - Self.size, limit],
      into: &window)
    #expect(below == [true, false, true, true, false, false])
    #expect(window.highest == limit - 1)
  }

  @Test func equalWindowsSawTheSameCounters() {
    var a = ReplayWindow()
    var b = ReplayWindow()
    _ = Self.run([1, 5, 3], into: &a)
    _ = Self.run([5, 1, 3], into: &b)
    #expect(a == b)
    _ = b.accept(2)
    #expect(a != b)
    #expect(ReplayWindow() == ReplayWindow())
  }
}
