/// The receive side's record of which transport counters it has accepted, so that a replayed
/// or too old message is dropped (whitepaper §5.4.6: a sliding window in the style of
/// RFC 6479). Call `accept` only after the message's tag has been verified: an unauthenticated
/// counter must not move the window.
///
/// The bitmap is a ring of 128 64-bit words (8,192 bits, as the kernel module and wireguard-go
/// keep): the word holding the highest counter is only partly used, so the window reaches
/// `windowSize` = 8,192 − 64 = 8,128 counters below the highest, above the protocol's 2,000.
/// Moving forward clears whole words, so a jump costs at most 128 stores; nothing allocates.
public struct ReplayWindow: Sendable, Equatable {
  public static let bitCount = 8192
  static let wordCount = bitCount / 64
  /// How far below the highest accepted counter a counter may be and still be accepted.
  public static let windowSize: UInt64 = UInt64(bitCount - 64)

  /// The highest counter accepted so far (0 before any: counter 0 is then still accepted).
  public private(set) var highest: UInt64 = 0
  private var words = InlineArray<128, UInt64>(repeating: 0)

  public init() {}

  /// True if `counter` is new and inside the window, and records it; false for a counter at
  /// or past `Limits.rejectAfterMessages`, one already seen, or one more than `windowSize`
  /// below the highest seen.
  @inline(__always)
  public mutating func accept(_ counter: UInt64) -> Bool {
    guard counter < Limits.rejectAfterMessages else { return false }
    let word = counter >> 6
    if counter > highest {
      let current = highest >> 6
      let toClear = min(word - current, UInt64(Self.wordCount))
      var i: UInt64 = 1
      while i <= toClear {
        words[Int((current &+ i) % UInt64(Self.wordCount))] = 0
        i += 1
      }
      highest = counter
    } else if highest - counter > Self.windowSize {
      return false
    }
    let index = Int(word % UInt64(Self.wordCount))
    let bit: UInt64 = 1 << (counter & 63)
    let old = words[index]
    words[index] = old | bit
    return old & bit == 0
  }

  public static func == (a: ReplayWindow, b: ReplayWindow) -> Bool {
    guard a.highest == b.highest else { return false }
    for i in 0..<wordCount where a.words[i] != b.words[i] { return false }
    return true
  }
}
