import WireGuard

/// `ReplayWindow` against a plain model: the set of accepted counters and the highest; a
/// counter is accepted when below REJECT_AFTER_MESSAGES, not in the set, and either above the
/// highest or at most `windowSize` below it. The counters come from the input: small steps
/// around the highest (in order, reordered, repeated), jumps of any size, counters at the
/// window's edge and at the limit.
enum WGReplayTarget: ParserTarget {
  static let name = "wgreplay"
  static let requiredChecks = [
    "sequence agrees with the model", "accepted", "refused as seen", "refused as too old",
    "refused at the limit", "window edge",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    var input = FuzzInput(bytes)
    var window = ReplayWindow()
    var seen = Set<UInt64>()
    var highest: UInt64 = 0
    let limit = Limits.rejectAfterMessages
    let size = ReplayWindow.windowSize
    // Where the counters start: near 0, anywhere, or near the limit.
    var next: UInt64
    switch input.byte() % 3 {
    case 0: next = 0
    case 1: next = input.u64() % limit
    default: next = limit - 1 - UInt64(input.u16())
    }
    while input.remaining > 0 {
      let step = input.byte()
      let counter: UInt64
      switch step % 8 {
      case 0, 1, 2: counter = next &+ UInt64(step >> 3)  // forward, small
      case 3: counter = next &- UInt64(input.u16() % 200)  // back, inside the window
      case 4: counter = next &+ UInt64(input.u32() % 20_000)  // a jump
      case 5: counter = highest &- size &- UInt64(step >> 3 & 1)  // at the window's edge
      case 6: counter = limit &- 2 &+ UInt64(step >> 3 & 3)  // at the limit
      default: counter = input.u64()  // anything
      }
      next = counter &+ 1
      let inWindow = counter > highest || highest - counter <= size
      let expected = counter < limit && !seen.contains(counter) && inWindow
      let got = window.accept(counter)
      require(
        got == expected,
        "counter \(counter) with highest \(highest): accepted \(got), model says \(expected)")
      if expected {
        seen.insert(counter)
        highest = max(highest, counter)
        Checks.count("accepted")
      } else if counter >= limit {
        Checks.count("refused at the limit")
      } else if !inWindow {
        Checks.count("refused as too old")
      } else {
        Checks.count("refused as seen")
      }
      if counter < limit && highest >= size && highest - counter == size {
        Checks.count("window edge")
      }
      require(window.highest == highest, "highest \(window.highest), model \(highest)")
      // Keep the model small: what fell out of the window can never be accepted again.
      if seen.count > 4096 { seen = seen.filter { highest - $0 <= size } }
    }
    Checks.count("sequence agrees with the model")
  }
}
