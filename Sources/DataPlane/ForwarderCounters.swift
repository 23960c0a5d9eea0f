/// A snapshot of a Forwarder's counters: one value per `Counter`, in a fixed array indexed by
/// the counter's raw value.
public struct ForwarderCounters: Equatable, Sendable {
  private var values: [UInt64]

  /// All zero.
  public init() { values = [UInt64](repeating: 0, count: Counter.allCases.count) }

  public subscript(counter: Counter) -> UInt64 {
    get { values[counter.rawValue] }
    set { values[counter.rawValue] = newValue }
  }

  /// Inner packets moved through user space: packets read from the TUN (a TSO/USO
  /// super-packet counts as the packets it was split into) plus packets received from peers
  /// (a UDP GRO train counts as its packets).
  public var packetsMoved: UInt64 {
    let read = self[.tunPacketsRead]
    return (read &- min(self[.tunSuperPackets], read)) &+ self[.tunSplitPackets]
      &+ self[.udpPacketsReceived]
  }

  /// Inner packets written into the TUN: a coalesced super-packet counts as the packets
  /// merged into it.
  public var innerPacketsWritten: UInt64 {
    let written = self[.tunPacketsWritten]
    let merged = self[.tunCoalescedWrites] &+ self[.tunCoalescedUDPWrites]
    return (written &- min(merged, written)) &+ self[.tunCoalescedPackets]
      &+ self[.tunCoalescedUDPPackets]
  }

  /// Mean packets moved per io_uring_enter: how well the loop batches.
  public var packetsPerSubmission: Double {
    let submissions = self[.submissions]
    return submissions == 0 ? 0 : Double(packetsMoved) / Double(submissions)
  }

  /// Counter by counter (wrapping, like the counters themselves).
  public static func + (lhs: ForwarderCounters, rhs: ForwarderCounters) -> ForwarderCounters {
    var sum = lhs
    for index in sum.values.indices { sum.values[index] &+= rhs.values[index] }
    return sum
  }

  /// The sum of `counters` (all zero for none): the backend reports the forwarders' (one per
  /// TUN queue) together.
  public static func sum(_ counters: some Sequence<ForwarderCounters>) -> ForwarderCounters {
    counters.reduce(ForwarderCounters(), +)
  }
}
