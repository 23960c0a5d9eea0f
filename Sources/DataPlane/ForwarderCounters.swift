import CSystemShims

/// A snapshot of a Forwarder's counters. "tun → udp" is traffic read from the TUN and sent to
/// a peer; "udp → tun" is traffic received from a peer and written into the TUN.
public struct ForwarderCounters: Equatable, Sendable {
  public var tunPacketsRead: UInt64 = 0
  public var tunBytesRead: UInt64 = 0
  public var udpPacketsSent: UInt64 = 0
  public var udpBytesSent: UInt64 = 0
  public var udpPacketsReceived: UInt64 = 0
  public var udpBytesReceived: UInt64 = 0
  public var tunPacketsWritten: UInt64 = 0
  public var tunBytesWritten: UInt64 = 0
  /// tun → udp with no route (answered with ICMP net unreachable when allowed).
  public var dropNoRoute: UInt64 = 0
  /// Either direction: TTL would reach 0.
  public var dropTTL: UInt64 = 0
  /// Either direction: fewer than 20 bytes.
  public var dropShort: UInt64 = 0
  /// Either direction: IP version is not 4.
  public var dropNotIPv4: UInt64 = 0
  /// Either direction: IHL < 5 or header longer than the packet.
  public var dropBadHeader: UInt64 = 0
  /// udp → tun: sender is not any route's next hop (unless acceptAnySource).
  public var dropUnknownSource: UInt64 = 0
  /// udp → tun: datagram longer than the configured maximum.
  public var dropTruncated: UInt64 = 0
  /// tun → udp: the send completed with an error.
  public var dropSendError: UInt64 = 0
  /// udp → tun (and ICMP): the TUN write completed with an error.
  public var dropTunWriteError: UInt64 = 0
  /// Reads from the TUN or receives from the socket that completed with an error.
  public var readErrors: UInt64 = 0
  /// Reads or receives that completed with EAGAIN and were simply posted again. With one
  /// multishot request per descriptor this stays 0; with several posted one-shot READs it
  /// counts reads the kernel gave up polling for and ran on an `iou-wrk` thread instead.
  public var readRetries: UInt64 = 0
  /// Multishot requests that ended because every provided buffer was taken (-ENOBUFS) and
  /// were re-armed once buffers came back.
  public var bufferShortages: UInt64 = 0
  public var icmpSent: UInt64 = 0
  /// SENDMSG operations carrying tun → udp packets (fewer than udpPacketsSent with UDP GSO).
  public var udpSends: UInt64 = 0
  /// Datagrams as the socket delivered them (fewer than udpPacketsReceived with UDP GRO).
  public var udpReceives: UInt64 = 0
  /// TUN offloads: super-packets read (TSO/USO) and the packets they were split into;
  /// super-packets dropped (refused by the split, or met after the offload was turned off);
  /// times an offload turned itself off because the kernel refused it.
  public var tunSuperPackets: UInt64 = 0
  public var tunSplitPackets: UInt64 = 0
  public var dropOffload: UInt64 = 0
  public var offloadsDisabled: UInt64 = 0
  /// Receive-side coalescing: TCP (TSO) super-packets written into the TUN (each one write,
  /// counted in tunPacketsWritten) and the received packets merged into them; the same for
  /// UDP (USO) super-packets.
  public var tunCoalescedWrites: UInt64 = 0
  public var tunCoalescedPackets: UInt64 = 0
  public var tunCoalescedUDPWrites: UInt64 = 0
  public var tunCoalescedUDPPackets: UInt64 = 0
  /// io_uring_enter calls (one per loop iteration: submit, run completions, wait) and SQEs
  /// they submitted.
  public var submissions: UInt64 = 0
  public var sqesSubmitted: UInt64 = 0
  /// Completions processed, and loop iterations that processed at least one.
  public var completions: UInt64 = 0
  public var batches: UInt64 = 0

  public init() {}

  /// Inner packets moved through user space: packets read from the TUN (a TSO/USO
  /// super-packet counts as the packets it was split into) plus packets received from peers
  /// (a UDP GRO train counts as its packets).
  public var packetsMoved: UInt64 {
    (tunPacketsRead &- min(tunSuperPackets, tunPacketsRead)) &+ tunSplitPackets
      &+ udpPacketsReceived
  }

  /// Inner packets written into the TUN: a coalesced super-packet counts as the packets
  /// merged into it.
  public var innerPacketsWritten: UInt64 {
    let merged = tunCoalescedWrites &+ tunCoalescedUDPWrites
    return (tunPacketsWritten &- min(merged, tunPacketsWritten)) &+ tunCoalescedPackets
      &+ tunCoalescedUDPPackets
  }

  /// Mean packets moved per io_uring_enter: how well the loop batches.
  public var packetsPerSubmission: Double {
    submissions == 0 ? 0 : Double(packetsMoved) / Double(submissions)
  }

  /// Mean SQEs per io_uring_enter.
  public var sqesPerSubmission: Double {
    submissions == 0 ? 0 : Double(sqesSubmitted) / Double(submissions)
  }
}

/// The counters as a fixed array of UInt64 slots, so the forwarder can bump plain memory per
/// packet and publish the whole set once per batch with relaxed stores (no locked RMW).
enum Counter: Int, CaseIterable {
  case tunPacketsRead, tunBytesRead, udpPacketsSent, udpBytesSent
  case udpPacketsReceived, udpBytesReceived, tunPacketsWritten, tunBytesWritten
  case dropNoRoute, dropTTL, dropShort, dropNotIPv4, dropBadHeader, dropUnknownSource
  case dropTruncated, dropSendError, dropTunWriteError, readErrors, readRetries
  case bufferShortages, icmpSent, udpSends, udpReceives
  case tunSuperPackets, tunSplitPackets, dropOffload, offloadsDisabled
  case tunCoalescedWrites, tunCoalescedPackets, tunCoalescedUDPWrites, tunCoalescedUDPPackets
  case submissions, sqesSubmitted, completions, batches

  static func drop(for verdict: PacketVerdict) -> Counter {
    switch verdict {
    case .short: .dropShort
    case .notIPv4: .dropNotIPv4
    case .badHeader: .dropBadHeader
    case .ttlExpired, .forward: .dropTTL
    }
  }
}

/// Two arrays of counters: `local` is written only by the forwarder thread; `published` is
/// copied from it once per batch and read by anyone.
final class CounterBank: @unchecked Sendable {
  // @unchecked: `local` belongs to the forwarder thread; `published` is accessed only through
  // relaxed atomic loads and stores.
  let local: UnsafeMutablePointer<UInt64>
  private let published: UnsafeMutablePointer<UInt64>
  static let count = Counter.allCases.count

  init() {
    local = .allocate(capacity: Self.count)
    local.initialize(repeating: 0, count: Self.count)
    published = .allocate(capacity: Self.count)
    published.initialize(repeating: 0, count: Self.count)
  }

  deinit {
    local.deallocate()
    published.deallocate()
  }

  @inline(__always)
  func add(_ counter: Counter, _ amount: UInt64 = 1) {
    local[counter.rawValue] &+= amount
  }

  /// Forwarder thread only.
  func publish() {
    for i in 0..<Self.count { flannel_store_relaxed_u64(published + i, local[i]) }
  }

  /// Any thread.
  func snapshot() -> ForwarderCounters {
    func load(_ c: Counter) -> UInt64 { flannel_load_relaxed_u64(published + c.rawValue) }
    var s = ForwarderCounters()
    s.tunPacketsRead = load(.tunPacketsRead)
    s.tunBytesRead = load(.tunBytesRead)
    s.udpPacketsSent = load(.udpPacketsSent)
    s.udpBytesSent = load(.udpBytesSent)
    s.udpPacketsReceived = load(.udpPacketsReceived)
    s.udpBytesReceived = load(.udpBytesReceived)
    s.tunPacketsWritten = load(.tunPacketsWritten)
    s.tunBytesWritten = load(.tunBytesWritten)
    s.dropNoRoute = load(.dropNoRoute)
    s.dropTTL = load(.dropTTL)
    s.dropShort = load(.dropShort)
    s.dropNotIPv4 = load(.dropNotIPv4)
    s.dropBadHeader = load(.dropBadHeader)
    s.dropUnknownSource = load(.dropUnknownSource)
    s.dropTruncated = load(.dropTruncated)
    s.dropSendError = load(.dropSendError)
    s.dropTunWriteError = load(.dropTunWriteError)
    s.readErrors = load(.readErrors)
    s.readRetries = load(.readRetries)
    s.bufferShortages = load(.bufferShortages)
    s.icmpSent = load(.icmpSent)
    s.udpSends = load(.udpSends)
    s.udpReceives = load(.udpReceives)
    s.tunSuperPackets = load(.tunSuperPackets)
    s.tunSplitPackets = load(.tunSplitPackets)
    s.dropOffload = load(.dropOffload)
    s.offloadsDisabled = load(.offloadsDisabled)
    s.tunCoalescedWrites = load(.tunCoalescedWrites)
    s.tunCoalescedPackets = load(.tunCoalescedPackets)
    s.tunCoalescedUDPWrites = load(.tunCoalescedUDPWrites)
    s.tunCoalescedUDPPackets = load(.tunCoalescedUDPPackets)
    s.submissions = load(.submissions)
    s.sqesSubmitted = load(.sqesSubmitted)
    s.completions = load(.completions)
    s.batches = load(.batches)
    return s
  }
}
