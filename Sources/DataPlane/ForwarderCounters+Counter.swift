/// Every counter of a forwarder, defined here once: its slot in the counter array (the raw
/// value), its name and help text on /metrics, and the summary series it feeds there. Adding a
/// case is the whole change: `CounterBank`, `ForwarderCounters`, the sum over workers and the
/// /metrics families (`UDPMetricFamily`, and `flannel_udp_forwarder_<name>_total{worker}` for
/// every counter) follow from it.
///
/// "tun → udp" is traffic read from the TUN and sent to a peer; "udp → tun" is traffic received
/// from a peer and written into the TUN.
public enum Counter: Int, CaseIterable, Sendable {
  case tunPacketsRead, tunBytesRead, udpPacketsSent, udpBytesSent
  case udpPacketsReceived, udpBytesReceived, tunPacketsWritten, tunBytesWritten
  case dropNoRoute, dropTTL, dropShort, dropNotIPv4, dropBadHeader, dropUnknownSource
  case dropTruncated, dropSendError, dropTunWriteError, readErrors, readRetries
  case bufferShortages, icmpSent, udpSends, udpReceives
  case tunSuperPackets, tunSplitPackets, dropOffload, offloadsDisabled
  case tunCoalescedWrites, tunCoalescedPackets, tunCoalescedUDPWrites, tunCoalescedUDPPackets
  case submissions, sqesSubmitted, completions, batches, pollHits, pollMisses
  case tunnelNoSession, tunnelHandshakesQueued, tunnelHandshakesDropped, tunnelBadMessage
  case tunnelUnknownIndex, tunnelDecryptFailed, tunnelReplayed, tunnelExpired
  case tunnelWrongSource, tunnelKeepalivesReceived, tunnelWrongWorker
  case tunnelStaged, tunnelStagedSent, tunnelStagedDropped, tunnelStagedAbandoned
  case tunnelStagedPeerGone
  case ipv6PacketsSent, ipv6PacketsWritten, dropIPv6NoRoute, dropHopLimit, dropIPv6Malformed
  case dropIPv6WrongSource, icmpv6Sent, dropBadSenderName, dropNotIPv6, dropIPv6Multicast

  /// Name, help text and summary series of the counter (one switch, checked for exhaustiveness
  /// by the compiler).
  public var info: CounterInfo {
    switch self {
    case .tunPacketsRead:
      CounterInfo("tun_packets_read", "Packets read from the TUN (a TSO/USO super-packet once).")
    case .tunBytesRead:
      CounterInfo("tun_bytes_read", "Bytes read from the TUN.")
    case .udpPacketsSent:
      CounterInfo(
        "udp_packets_sent", "Datagrams sent to peers (tun → udp).",
        CounterSeries(.packets, ["direction": "tun_to_udp"]))
    case .udpBytesSent:
      CounterInfo(
        "udp_bytes_sent", "Bytes of inner packets sent to peers.",
        CounterSeries(.bytes, ["direction": "tun_to_udp"]))
    case .udpPacketsReceived:
      CounterInfo(
        "udp_packets_received", "Datagrams received from peers (a UDP GRO train as its datagrams).")
    case .udpBytesReceived:
      CounterInfo("udp_bytes_received", "Bytes of datagrams received from peers.")
    case .tunPacketsWritten:
      CounterInfo(
        "tun_packets_written",
        "Writes of received packets into the TUN (a coalesced super-packet once).",
        CounterSeries(.packets, ["direction": "udp_to_tun"], innerPackets: true))
    case .tunBytesWritten:
      CounterInfo(
        "tun_bytes_written", "Bytes written into the TUN.",
        CounterSeries(.bytes, ["direction": "udp_to_tun"]))
    case .dropNoRoute:
      CounterInfo(
        "drop_no_route",
        "tun → udp packets with no route (answered with ICMP net unreachable when allowed).",
        .drop("no_route"))
    case .dropTTL:
      CounterInfo("drop_ttl", "Packets whose TTL would reach 0.", .drop("ttl"))
    case .dropShort:
      CounterInfo("drop_short", "Packets shorter than 20 bytes.", .drop("short"))
    case .dropNotIPv4:
      CounterInfo(
        "drop_not_ipv4", "Packets whose IP version is not 4 (nor 6 on a dual-stack network).",
        .drop("not_ipv4"))
    case .dropBadHeader:
      CounterInfo(
        "drop_bad_header", "Packets with IHL < 5 or a header longer than the packet.",
        .drop("bad_header"))
    case .dropUnknownSource:
      CounterInfo(
        "drop_unknown_source",
        "udp → tun datagrams from a sender that is no route's next hop (unless -udp-accept-any-source).",
        .drop("unknown_source"))
    case .dropTruncated:
      CounterInfo(
        "drop_truncated", "udp → tun datagrams longer than the configured maximum.",
        .drop("truncated"))
    case .dropSendError:
      CounterInfo(
        "drop_send_error", "tun → udp packets whose send completed with an error.",
        .drop("send_error"))
    case .dropTunWriteError:
      CounterInfo(
        "drop_tun_write_error",
        "Packets (and ICMP replies) whose TUN write completed with an error.",
        .drop("tun_write_error"))
    case .readErrors:
      CounterInfo(
        "read_errors", "TUN reads or socket receives that completed with an error.")
    case .readRetries:
      // With one multishot request per descriptor this stays 0; with several posted one-shot
      // READs it counts reads the kernel gave up polling for and ran on an iou-wrk thread.
      CounterInfo(
        "read_retries",
        "TUN reads or socket receives that completed with EAGAIN and were posted again.")
    case .bufferShortages:
      CounterInfo(
        "buffer_shortages",
        "Multishot requests that ended because every provided buffer was taken (-ENOBUFS), re-armed once buffers came back."
      )
    case .icmpSent:
      CounterInfo("icmp_sent", "ICMP net-unreachable replies written into the TUN.")
    case .udpSends:
      CounterInfo(
        "udp_sends", "Socket sends of tun → udp packets (with UDP GSO one carries up to 64).",
        CounterSeries(.offloadPackets, ["kind": "udp_sends"]))
    case .udpReceives:
      CounterInfo(
        "udp_receives", "Socket receives (with UDP GRO one delivers a train of datagrams).",
        CounterSeries(.offloadPackets, ["kind": "udp_receives"]))
    case .tunSuperPackets:
      CounterInfo(
        "tun_super_packets",
        "TCP (TSO) and UDP (USO) super-packets the kernel handed over on the TUN.",
        CounterSeries(.offloadPackets, ["kind": "super_packets_read"]))
    case .tunSplitPackets:
      CounterInfo(
        "tun_split_packets", "The MTU-sized packets super-packets were cut into and sent.",
        CounterSeries(.offloadPackets, ["kind": "super_packet_segments_sent"]))
    case .dropOffload:
      CounterInfo(
        "drop_offload",
        "Super-packets dropped: refused by the split, or met after the offload was turned off.",
        .drop("offload"))
    case .offloadsDisabled:
      CounterInfo(
        "offloads_disabled", "Times an offload turned itself off because the kernel refused it.",
        CounterSeries(.offloadsDisabled, [:]))
    case .tunCoalescedWrites:
      CounterInfo(
        "tun_coalesced_writes", "TCP (TSO) super-packets written into the TUN.",
        CounterSeries(.offloadPackets, ["kind": "coalesced_tcp_writes"]))
    case .tunCoalescedPackets:
      CounterInfo(
        "tun_coalesced_packets", "Received TCP packets merged into those super-packets.",
        CounterSeries(.offloadPackets, ["kind": "coalesced_tcp_packets"]))
    case .tunCoalescedUDPWrites:
      CounterInfo(
        "tun_coalesced_udp_writes", "UDP (USO) super-packets written into the TUN.",
        CounterSeries(.offloadPackets, ["kind": "coalesced_udp_writes"]))
    case .tunCoalescedUDPPackets:
      CounterInfo(
        "tun_coalesced_udp_packets", "Received UDP datagrams merged into those super-packets.",
        CounterSeries(.offloadPackets, ["kind": "coalesced_udp_packets"]))
    case .submissions:
      CounterInfo(
        "submissions",
        "io_uring_enter calls (one per loop iteration: submit, reap, wait; plus a poll's).",
        CounterSeries(.ioUringEnters, [:]))
    case .sqesSubmitted:
      CounterInfo("sqes_submitted", "SQEs the io_uring_enter calls submitted.")
    case .completions:
      CounterInfo("completions", "Completions processed.")
    case .batches:
      CounterInfo("batches", "Loop iterations that processed at least one completion.")
    case .pollHits:
      CounterInfo(
        "poll_hits", "Polls of the ring before sleeping that found completions (-udp-poll-usecs).")
    case .pollMisses:
      CounterInfo("poll_misses", "Polls of the ring that found nothing and ended in a sleep.")
    case .tunnelNoSession:
      // Not a drop since packets wait for the session (tunnel_staged); what is lost of them
      // is counted by the tunnel_staged_* drops.
      CounterInfo(
        "tunnel_no_session",
        "WireGuard: packets to a peer with no session that may send: staged, and a handshake is started."
      )
    case .tunnelHandshakesQueued:
      CounterInfo(
        "tunnel_handshakes_queued",
        "WireGuard: handshake messages (types 1-3) handed to the handshake thread.")
    case .tunnelHandshakesDropped:
      CounterInfo(
        "tunnel_handshakes_dropped",
        "WireGuard: handshake messages dropped because the handshake thread's queue was full.",
        .drop("handshake_queue_full"))
    case .tunnelBadMessage:
      CounterInfo(
        "tunnel_bad_message",
        "WireGuard: datagrams that are no WireGuard message (type, size or reserved bytes).",
        .drop("bad_message"))
    case .tunnelUnknownIndex:
      CounterInfo(
        "tunnel_unknown_index",
        "WireGuard: transport messages whose receiver index names no session.",
        .drop("unknown_index"))
    case .tunnelDecryptFailed:
      CounterInfo(
        "tunnel_decrypt_failed",
        "WireGuard: transport messages whose authentication tag did not verify.",
        .drop("decrypt_failed"))
    case .tunnelReplayed:
      CounterInfo(
        "tunnel_replayed",
        "WireGuard: transport messages with a counter already seen or below the window.",
        .drop("replayed"))
    case .tunnelExpired:
      CounterInfo(
        "tunnel_expired",
        "WireGuard: messages on a session past REJECT_AFTER_TIME (neither sealed nor opened).",
        .drop("session_expired"))
    case .tunnelWrongSource:
      CounterInfo(
        "tunnel_wrong_source",
        "WireGuard: opened packets whose inner source is not the sending peer's subnet.",
        .drop("wrong_source"))
    case .tunnelKeepalivesReceived:
      CounterInfo("tunnel_keepalives_received", "WireGuard: keepalives (empty messages) opened.")
    case .tunnelWrongWorker:
      CounterInfo(
        "tunnel_wrong_worker",
        "WireGuard: transport messages that reached a worker other than their session's (a UDP GRO train mixing sessions): dropped unopened.",
        .drop("wrong_worker"))
    case .tunnelStaged:
      CounterInfo(
        "tunnel_staged",
        "WireGuard: packets staged to wait for a handshake (no session that may send, or older packets of the peer still waiting); a TSO/USO super-packet once."
      )
    case .tunnelStagedSent:
      CounterInfo(
        "tunnel_staged_sent",
        "WireGuard: staged packets sealed and sent once the peer's session existed, in the order they were staged."
      )
    case .tunnelStagedDropped:
      CounterInfo(
        "tunnel_staged_dropped",
        "WireGuard: staged packets dropped to make room (oldest first): the peer had as many staged as it may (128, or the pool's size if smaller), or the worker's staging pool (half its TUN buffers) was full.",
        .drop("staging_full"))
    case .tunnelStagedAbandoned:
      CounterInfo(
        "tunnel_staged_abandoned",
        "WireGuard: staged packets dropped because the handshake was given up (REKEY_ATTEMPT_TIME unanswered).",
        .drop("handshake_abandoned"))
    case .tunnelStagedPeerGone:
      CounterInfo(
        "tunnel_staged_peer_gone",
        "WireGuard: staged packets dropped because their peer (its lease) or its route went.",
        .drop("staged_peer_gone"))
    case .ipv6PacketsSent:
      CounterInfo(
        "ipv6_packets_sent",
        "IPv6 packets (a TSO/USO super-packet once) read from the TUN and sent to peers (dual-stack)."
      )
    case .ipv6PacketsWritten:
      CounterInfo(
        "ipv6_packets_written", "IPv6 packets received from peers and written into the TUN.")
    case .dropIPv6NoRoute:
      CounterInfo(
        "drop_ipv6_no_route",
        "tun → udp IPv6 packets for no lease's IPv6 subnet (answered with ICMPv6 destination unreachable when allowed).",
        .drop("ipv6_no_route"))
    case .dropIPv6Multicast:
      CounterInfo(
        "drop_ipv6_multicast",
        "tun → udp IPv6 packets to a multicast group (the host's own MLD reports on flannel0): no peer takes them, no reply is due.",
        .drop("ipv6_multicast"))
    case .dropHopLimit:
      CounterInfo(
        "drop_hop_limit", "IPv6 packets whose hop limit would reach 0.", .drop("hop_limit"))
    case .dropIPv6Malformed:
      CounterInfo(
        "drop_ipv6_malformed",
        "IPv6 packets shorter than 40 bytes, with a payload length past the end, or with truncated extension headers.",
        .drop("ipv6_malformed"))
    case .dropIPv6WrongSource:
      CounterInfo(
        "drop_ipv6_wrong_source",
        "udp → tun IPv6 packets whose source is outside the sending peer's IPv6 subnet (unless -udp-accept-any-source).",
        .drop("ipv6_wrong_source"))
    case .icmpv6Sent:
      CounterInfo(
        "icmpv6_sent", "ICMPv6 destination-unreachable replies written into the TUN.")
    case .dropBadSenderName:
      CounterInfo(
        "drop_bad_sender_name",
        "udp → tun datagrams whose sender address (the recvmsg name) is not of the socket's family or is cut short.",
        .drop("bad_sender_name"))
    case .dropNotIPv6:
      CounterInfo(
        "drop_not_ipv6",
        "udp → tun packets that are not IPv6 on an IPv6-only network (IPv6 underlay), where no peer has an IPv4 subnet.",
        .drop("not_ipv6"))
    }
  }

  static func drop(for verdict: PacketVerdict) -> Counter {
    switch verdict {
    case .short: .dropShort
    case .notIPv4: .dropNotIPv4
    case .badHeader: .dropBadHeader
    case .malformedIPv6: .dropIPv6Malformed
    case .hopLimitExpired: .dropHopLimit
    case .wrongSource: .dropIPv6WrongSource
    case .notIPv6: .dropNotIPv6
    case .ttlExpired, .forward, .consumed: .dropTTL
    }
  }
}

/// What a `Counter` is called and where /metrics shows it.
public struct CounterInfo: Sendable {
  /// snake_case: `flannel_udp_forwarder_<name>_total` on /metrics.
  public let name: String
  /// One sentence for the HELP line.
  public let help: String
  /// The summary series it feeds (summed over the workers), nil for none.
  public let series: CounterSeries?

  init(_ name: String, _ help: String, _ series: CounterSeries? = nil) {
    self.name = name
    self.help = help
    self.series = series
  }
}

/// One labelled series of a `UDPMetricFamily` that a counter feeds.
public struct CounterSeries: Sendable {
  public let family: UDPMetricFamily
  public let labels: [String: String]
  /// The series counts inner packets: a coalesced super-packet written into the TUN counts as
  /// the packets merged into it (`ForwarderCounters.innerPacketsWritten`), not once.
  public let innerPackets: Bool

  init(_ family: UDPMetricFamily, _ labels: [String: String], innerPackets: Bool = false) {
    self.family = family
    self.labels = labels
    self.innerPackets = innerPackets
  }

  static func drop(_ reason: String) -> CounterSeries { CounterSeries(.drops, ["reason": reason]) }

  /// The series' value in `counters` for `counter`.
  public func value(of counter: Counter, in counters: ForwarderCounters) -> UInt64 {
    innerPackets ? counters.innerPacketsWritten : counters[counter]
  }
}
