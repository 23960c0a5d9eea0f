/// Under load, how many handshake messages (with a valid mac2) one source address may have
/// processed: a token bucket per IPv4 address, 20 per second with bursts of 5 (the rate the
/// kernel module and wireguard-go allow), so that one address holding a valid cookie cannot
/// make us spend all our Diffie-Hellman work on it. Addresses idle for a second are
/// forgotten. Times are the device's monotonic `now`.
struct HandshakeRateLimiter {
  /// The time one message costs: 1 s / 20.
  static let cost = Duration.milliseconds(50)
  /// The most a bucket holds: five messages in a row.
  static let capacity = cost * 5
  /// Entries idle this long are dropped.
  static let forgetAfter = Duration.seconds(1)

  private struct Bucket {
    var tokens: Duration
    var last: Duration
  }

  private var buckets: [UInt32: Bucket] = [:]
  private var lastSweep: Duration?

  var trackedAddresses: Int { buckets.count }

  /// Whether a message from `address` may be processed at `now`; takes its cost if so.
  mutating func allow(_ address: UInt32, now: Duration) -> Bool {
    sweep(now)
    var bucket =
      buckets[address] ?? Bucket(tokens: Self.capacity, last: now)
    bucket.tokens = min(Self.capacity, bucket.tokens + max(.zero, now - bucket.last))
    bucket.last = now
    let allowed = bucket.tokens >= Self.cost
    if allowed { bucket.tokens -= Self.cost }
    buckets[address] = bucket
    return allowed
  }

  private mutating func sweep(_ now: Duration) {
    if let lastSweep, now - lastSweep < Self.forgetAfter { return }
    lastSweep = now
    buckets = buckets.filter { now - $0.value.last < Self.forgetAfter }
  }
}
