/// Capped exponential backoff: initial, ×2 per failure, up to max; reset on success.
struct Backoff: Sendable {
  let initial: Duration
  let max: Duration
  private(set) var next: Duration

  init(initial: Duration, max: Duration) {
    self.initial = initial
    self.max = max
    self.next = initial
  }

  /// The delay to wait now; doubles the one after it.
  mutating func take() -> Duration {
    let current = next
    next = Swift.min(next * 2, max)
    return current
  }

  mutating func reset() { next = initial }
}
