/// What the caller of `HandshakeDevice` must do, in the order given.
///
/// Sessions are reported in one form only, `.sessionsChanged`: after any call that changed a
/// peer's sessions, the peer's complete set (not a delta), which the data path publishes as
/// it is. Everything the data path needs follows from it: a new current session (whether we
/// initiated or a responder session was confirmed), a responder session waiting for
/// confirmation (in `receiving`, not `sending`), expiry, key erasure and removal (`sending`
/// nil, `receiving` shorter or empty).
public enum HandshakeOutput: Sendable, CustomStringConvertible {
  /// Send these bytes (an initiation, a response or a cookie reply) as one UDP datagram.
  case send([UInt8], to: Endpoint)
  /// The peer's sessions now. `sending`: the session to seal with (nil: none; queue and call
  /// `sendRequested`). `receiving`: every session whose `localIndex` may open received
  /// transport messages (current, previous, unconfirmed next), `sending` among them.
  case sessionsChanged(peer: PublicKey, sending: TransportKeys?, receiving: [TransportKeys])
  /// Send an empty transport message on the peer's current session (`sending`), then report
  /// it with `transportSent(keepalive: true)`.
  case sendKeepalive(peer: PublicKey)
  /// The handshake went unanswered for REKEY_ATTEMPT_TIME: drop the packets waiting for it.
  case handshakeAbandoned(peer: PublicKey)
  /// The peer answered from another address than the one we had (roaming, as the kernel
  /// module and wireguard-go follow it): send its transport messages there from now on.
  case endpointChanged(peer: PublicKey, to: Endpoint)
  /// `setPeers` left this peer out; the reason names what is wrong.
  case peerRefused(peer: PublicKey, PeerConfigError)

  public var description: String {
    switch self {
    case .send(let bytes, let to): "send type \(bytes.first ?? 0) (\(bytes.count) bytes) to \(to)"
    case .sessionsChanged(let peer, let sending, let receiving):
      "sessions of \(peer): sending \(sending.map { "\($0.localIndex)" } ?? "none"), receiving "
        + "\(receiving.map(\.localIndex))"
    case .sendKeepalive(let peer): "keepalive to \(peer)"
    case .handshakeAbandoned(let peer): "handshake with \(peer) abandoned"
    case .endpointChanged(let peer, let to): "\(peer) moved to \(to)"
    case .peerRefused(let peer, let error): "peer \(peer) refused: \(error)"
    }
  }
}
