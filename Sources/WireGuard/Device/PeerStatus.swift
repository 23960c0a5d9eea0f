/// One peer as `wg show` would describe it.
public struct PeerStatus: Sendable, Equatable {
  public var publicKey: PublicKey
  /// Where its messages go now (the configured endpoint, or where it last roamed to).
  public var endpoint: Endpoint
  /// When the newest handshake completed (the device's monotonic `now`; nil before any): as
  /// initiator when the response arrived, as responder when the initiator's first transport
  /// message confirmed the session (as `wg show`'s "latest handshake" counts).
  public var lastHandshake: Duration?
  /// The local index of the session we send on, if any.
  public var sendingIndex: UInt32?
  /// The local indices that may receive (current, previous, unconfirmed next).
  public var receivingIndices: [UInt32]
  /// Whether an initiation we sent awaits its response.
  public var initiationPending: Bool
  public var persistentKeepalive: Duration
}
