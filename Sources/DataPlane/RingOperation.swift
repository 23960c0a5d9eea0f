/// What an SQE was for, kept in the top byte of its user_data; the low bits are a buffer id
/// (or a split-send slot).
enum RingOperation: UInt64 {
  case tunRead = 1
  case udpSend = 2
  case icmpWrite = 3
  case udpReceive = 4
  case tunWrite = 5
  case wake = 6
  case cancel = 7
  /// A chunk of a split super-packet; the id is its send-header slot.
  case splitSend = 8
  /// A TUN write of coalesced packets (a super-packet); the id is the udp buffer's.
  case tunWriteCoalesced = 9
  /// An ICMPv6 destination unreachable written into the TUN; the id is the TUN buffer's.
  case icmpv6Write = 10

  @inline(__always)
  func userData(_ id: Int) -> UInt64 { rawValue << 56 | UInt64(truncatingIfNeeded: id) }

  /// The operation and id a completion's user_data carries (nil: not one of ours).
  @inline(__always)
  static func decode(_ userData: UInt64) -> (operation: RingOperation?, id: Int) {
    (
      RingOperation(rawValue: userData >> 56),
      Int(truncatingIfNeeded: userData & 0x00ff_ffff_ffff_ffff)
    )
  }
}
