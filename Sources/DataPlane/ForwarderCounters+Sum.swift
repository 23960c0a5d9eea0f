/// Adding counters of several forwarders (one per TUN queue): the backend reports the sum.
extension ForwarderCounters {
  /// Every stored counter, so that the sum cannot forget one (a test compares the count with
  /// the struct's stored properties).
  static var fields: [WritableKeyPath<ForwarderCounters, UInt64>] {
    [
      \.tunPacketsRead, \.tunBytesRead, \.udpPacketsSent, \.udpBytesSent,
      \.udpPacketsReceived, \.udpBytesReceived, \.tunPacketsWritten, \.tunBytesWritten,
      \.dropNoRoute, \.dropTTL, \.dropShort, \.dropNotIPv4, \.dropBadHeader, \.dropUnknownSource,
      \.dropTruncated, \.dropSendError, \.dropTunWriteError, \.readErrors, \.readRetries,
      \.bufferShortages, \.icmpSent, \.udpSends, \.udpReceives,
      \.tunSuperPackets, \.tunSplitPackets, \.dropOffload, \.offloadsDisabled,
      \.tunCoalescedWrites, \.tunCoalescedPackets, \.tunCoalescedUDPWrites,
      \.tunCoalescedUDPPackets,
      \.submissions, \.sqesSubmitted, \.completions, \.batches,
    ]
  }

  /// Field by field (wrapping, like the counters themselves).
  public static func + (lhs: ForwarderCounters, rhs: ForwarderCounters) -> ForwarderCounters {
    var sum = lhs
    for field in Self.fields { sum[keyPath: field] &+= rhs[keyPath: field] }
    return sum
  }

  /// The sum of `counters` (all zero for none).
  public static func sum(_ counters: some Sequence<ForwarderCounters>) -> ForwarderCounters {
    counters.reduce(ForwarderCounters(), +)
  }
}
