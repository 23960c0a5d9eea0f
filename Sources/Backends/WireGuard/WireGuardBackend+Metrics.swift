import DataPlane
import WireGuard

/// /metrics of the wireguard backend: the forwarders' counters as the udp backend reports them
/// (the WireGuard drops among them: `tunnel_*`), then per peer what `wg show` shows (handshake
/// age, bytes, handshakes), and the handshake thread's messages and drops by reason.
extension WireGuardBackend {
  public func metrics() -> [BackendMetric] {
    let (workers, loop) = state.withLock { ($0.workers, $0.loop) }
    let dataPlane = workers.map { (workers: $0.workerCounters(), offloads: $0.offloads) }
    return UDPBackend.metrics(dataPlane: dataPlane, routeTable: nil)
      + Self.metrics(peers: loop?.status ?? [], counters: loop?.counters)
  }

  static func metrics(peers: [WireGuardPeerStatus], counters: HandshakeCounters?)
    -> [BackendMetric]
  {
    func perPeer(_ value: (WireGuardPeerStatus) -> Double?) -> [BackendMetric.Sample] {
      peers.compactMap { peer in
        value(peer).map { .init(labels: ["peer": peer.publicKey], value: $0) }
      }
    }
    var messages: [BackendMetric.Sample] = []
    var drops: [BackendMetric.Sample] = []
    if let counters {
      let kinds: [(String, UInt64)] = [
        ("initiation_sent", counters.initiationsSent),
        ("initiation_received", counters.initiationsReceived),
        ("response_sent", counters.responsesSent),
        ("response_received", counters.responsesReceived),
        ("cookie_reply_sent", counters.cookieRepliesSent),
        ("cookie_reply_received", counters.cookieRepliesReceived),
      ]
      messages = kinds.map { .init(labels: ["kind": $0.0], value: Double($0.1)) }
      drops = HandshakeDropReason.allCases.map {
        .init(labels: ["reason": $0.label], value: Double(counters[dropped: $0]))
      }
    }
    return [
      BackendMetric(
        name: "flannel_wireguard_peer_handshake_age_seconds",
        help: "Seconds since the last completed handshake with the peer (absent: none yet).",
        kind: .gauge,
        samples: perPeer { $0.handshakeAge.map { Double($0 / .milliseconds(1)) / 1000 } }),
      BackendMetric(
        name: "flannel_wireguard_peer_handshakes_total",
        help: "Sessions started with the peer (the first handshake and every rekey).",
        kind: .counter, samples: perPeer { Double($0.handshakes) }),
      BackendMetric(
        name: "flannel_wireguard_peer_sent_bytes_total",
        help: "Bytes of inner packets sealed for the peer.", kind: .counter,
        samples: perPeer { Double($0.activity.bytesSent) }),
      BackendMetric(
        name: "flannel_wireguard_peer_received_bytes_total",
        help: "Bytes of inner packets opened from the peer.", kind: .counter,
        samples: perPeer { Double($0.activity.bytesReceived) }),
      BackendMetric(
        name: "flannel_wireguard_handshake_messages_total",
        help: "Handshake messages sent and accepted, by kind.", kind: .counter,
        samples: messages),
      BackendMetric(
        name: "flannel_wireguard_handshake_drops_total",
        help: "Handshake messages dropped by the handshake thread, by reason.", kind: .counter,
        samples: drops),
    ]
  }
}
