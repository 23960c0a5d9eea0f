#if canImport(Glibc)
  import Glibc
#endif

/// CLOCK_MONOTONIC, the one clock the forwarders and the WireGuard handshake thread share:
/// session ages, peer activity and timers are all measured on it.
public enum MonotonicClock {
  @inline(__always)
  public static func nanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
  }

  /// The same time as a Duration (what the WireGuard state machines take as `now`).
  public static func now() -> Duration {
    let ns = nanoseconds()
    return .seconds(Int64(ns / 1_000_000_000)) + .nanoseconds(Int64(ns % 1_000_000_000))
  }
}
