/// The udp data plane's counters as /metrics shows them (built from the forwarders' own type
/// by `init(udpWorkers:offloads:)`).
public struct DataPlaneCounters: Sendable, Equatable {
  /// TUN → UDP (encapsulated and sent to a peer).
  public var packetsSent: UInt64 = 0
  public var bytesSent: UInt64 = 0
  /// UDP → TUN (received from a peer and delivered).
  public var packetsReceived: UInt64 = 0
  public var bytesReceived: UInt64 = 0
  /// Dropped packets by reason, e.g. "no_route", "too_big", "bad_source", "tun_write".
  public var drops: [String: UInt64] = [:]
  /// io_uring_enter calls of the forwarders (packets moved / enters = how well they batch).
  public var ioUringEnters: UInt64 = 0
  /// One entry per forwarder thread, worker 0 first.
  public var workers: [Worker] = []
  /// Offload work summed over the workers, by kind (`OffloadKind`).
  public var offloadPackets: [OffloadKind: UInt64] = [:]
  /// Each offload by its `-udp-offloads` word ("csum", "tso", …): on right now (worker 0)?
  public var activeOffloads: [String: Bool] = [:]
  /// Times an offload turned itself off because the kernel refused it.
  public var offloadsDisabled: UInt64 = 0

  /// One forwarder thread's share.
  public struct Worker: Sendable, Equatable {
    public var packetsSent: UInt64
    public var packetsReceived: UInt64
    public var ioUringEnters: UInt64

    public init(packetsSent: UInt64 = 0, packetsReceived: UInt64 = 0, ioUringEnters: UInt64 = 0) {
      self.packetsSent = packetsSent
      self.packetsReceived = packetsReceived
      self.ioUringEnters = ioUringEnters
    }
  }

  /// The `kind` label of flannel_udp_offload_packets_total. Read as pairs: super-packets read
  /// from the TUN and the packets cut from them; socket sends / receives against
  /// flannel_udp_packets_total (packets per syscall); coalesced writes and the packets merged
  /// into them.
  public enum OffloadKind: String, Sendable, CaseIterable {
    /// TCP (TSO) and UDP (USO) super-packets the kernel handed over on the TUN.
    case superPacketsRead = "super_packets_read"
    /// The MTU-sized packets those were cut into and sent.
    case superPacketSegmentsSent = "super_packet_segments_sent"
    /// Socket sends of tun → udp packets (with UDP GSO one carries up to 64).
    case udpSends = "udp_sends"
    /// Socket receives (with UDP GRO one delivers a train of datagrams).
    case udpReceives = "udp_receives"
    /// TCP super-packets written into the TUN, and the received packets merged into them.
    case coalescedTCPWrites = "coalesced_tcp_writes"
    case coalescedTCPPackets = "coalesced_tcp_packets"
    /// The same for UDP (USO) super-packets.
    case coalescedUDPWrites = "coalesced_udp_writes"
    case coalescedUDPPackets = "coalesced_udp_packets"
  }

  public init() {}
}
