/// How long a forwarder polls its ring before it sleeps, adapted to the traffic as the kernel's
/// halt-polling adapts a vCPU's (pure bookkeeping; the loop does the polling and the clock).
///
/// Why poll at all: a forwarder that sleeps as soon as its ring is empty is woken for the next
/// packet from an idle CPU, which costs ~0.1 ms on a VM — on every hop of a request/response
/// exchange whose answer comes back a few tens of µs later. Why adapt: a poll that finds
/// nothing burns its whole window, and on a 2-vCPU node that CPU is what the applications and
/// the kernel's own packet work need.
///
/// The rules: the window starts at the maximum. After each sleep the loop reports how long it
/// slept: a wake-up that came within the maximum is one a poll would have caught, so the
/// window grows (doubling, from a quarter of the maximum when it was closed); a longer sleep
/// halves it, and below an eighth of the maximum it closes. A poll that caught a completion
/// grows it as well: in a request/response exchange every answer is caught by a poll and every
/// pause between requests ends a long sleep, and if only the sleeps counted, the window would
/// halve on every exchange and close within four (pings every 10 ms: RTT 0.242 ms against a
/// one-packet-per-syscall forwarder's 0.181, docs/performance/2026-12-07-latency-idle.txt). The loop polls only after a batch
/// that handled completions (`active`): an idle forwarder never polls, whatever the window.
/// Polling only after sends to peers (when an answer from the network is due) measured worse
/// on the bench lab: a ping's round trip 0.197 against 0.168 ms (median of `bench.sh --hops`,
/// docs/performance/2026-12-06-latency-before-after.txt).
public struct PollWindow: Sendable, Equatable {
  /// The largest window (ns); 0 turns polling off for good.
  public let maximum: UInt64
  /// The current window (ns); 0 while closed.
  public private(set) var current: UInt64

  public init(maximumNanoseconds: UInt64) {
    maximum = maximumNanoseconds
    current = maximumNanoseconds
  }

  /// Whether to poll before the next sleep, given whether the batch just handled had
  /// completions.
  @inline(__always)
  public func shouldPoll(afterActiveBatch active: Bool) -> Bool { active && current > 0 }

  /// The loop slept `nanoseconds` (after a poll that found nothing, or without polling).
  @inline(__always)
  public mutating func slept(_ nanoseconds: UInt64) {
    guard maximum > 0 else { return }
    if nanoseconds <= maximum {
      grow()
    } else {
      current /= 2
      if current < maximum / 8 { current = 0 }
    }
  }

  /// A poll caught a completion before the window passed.
  @inline(__always)
  public mutating func caught() {
    guard maximum > 0 else { return }
    grow()
  }

  @inline(__always)
  private mutating func grow() {
    current = current == 0 ? maximum / 4 : min(current &* 2, maximum)
  }
}
