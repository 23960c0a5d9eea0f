#if canImport(Glibc)
  import Glibc
#endif

/// A TAI64N timestamp (12 bytes: 2^62 + 10 + Unix seconds as 8 bytes big-endian, then the
/// nanoseconds as 4 bytes big-endian), the initiation's replay guard: a responder accepts an
/// initiation only if its timestamp is greater than the last one accepted from that peer.
/// The byte order makes byte-wise order equal time order.
public struct TAI64N: Comparable, Hashable, Sendable {
  /// The label of second 0 of 1970 (TAI64's 2^62, plus the 10 s TAI–UTC offset of 1970).
  static let base: UInt64 = 0x4000_0000_0000_000a
  /// Wire size.
  public static let size = 12

  /// The TAI64 label (`base` + Unix seconds).
  public let seconds: UInt64
  public let nanoseconds: UInt32

  /// The timestamp of `unixSeconds` and `nanoseconds` past it.
  public init(unixSeconds: Int64, nanoseconds: UInt32) {
    seconds = Self.base &+ UInt64(bitPattern: unixSeconds)
    self.nanoseconds = nanoseconds
  }

  /// Reads 12 bytes.
  init(bytes: some Collection<UInt8>) {
    precondition(bytes.count == Self.size, "a TAI64N timestamp is 12 bytes")
    var seconds: UInt64 = 0
    var nanoseconds: UInt32 = 0
    for (index, byte) in bytes.enumerated() {
      if index < 8 {
        seconds = seconds << 8 | UInt64(byte)
      } else {
        nanoseconds = nanoseconds << 8 | UInt32(byte)
      }
    }
    self.seconds = seconds
    self.nanoseconds = nanoseconds
  }

  /// Now, from the real-time clock, with the nanoseconds rounded down to a multiple of
  /// 2^24 ns (about 16.8 ms) so the timestamp does not reveal the sender's precise clock
  /// (wireguard-go and the kernel do the same).
  public static func now() -> TAI64N {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return TAI64N(
      unixSeconds: Int64(time.tv_sec), nanoseconds: UInt32(time.tv_nsec) & ~UInt32(0xff_ffff))
  }

  /// The 12 wire bytes.
  public var bytes: [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(Self.size)
    for shift in stride(from: 56, through: 0, by: -8) {
      out.append(UInt8(truncatingIfNeeded: seconds >> UInt64(shift)))
    }
    for shift in stride(from: 24, through: 0, by: -8) {
      out.append(UInt8(truncatingIfNeeded: nanoseconds >> UInt32(shift)))
    }
    return out
  }

  public static func < (lhs: TAI64N, rhs: TAI64N) -> Bool {
    (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
  }
}
