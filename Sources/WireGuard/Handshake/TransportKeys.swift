/// The result of a completed handshake: one key to seal what we send and one to open what
/// we receive, and the two indices that name this session on the wire (a transport message
/// we send carries `remoteIndex`; one we receive carries `localIndex`).
///
/// The key objects are thread-confined (see `ChaCha20Poly1305Key`): one thread seals with
/// `sending`, one opens with `receiving`; more threads take duplicates.
public final class TransportKeys: @unchecked Sendable {
  public let sending: ChaCha20Poly1305Key
  public let receiving: ChaCha20Poly1305Key
  /// Our index for this session (chosen by us when we made our handshake message).
  public let localIndex: UInt32
  /// The peer's index for this session.
  public let remoteIndex: UInt32
  /// Whether we sent the initiation. The responder must not send data with these keys
  /// before the first transport message from the initiator has opened with them.
  public let isInitiator: Bool
  /// When the handshake completed (the caller's monotonic `now`; for REKEY_AFTER_TIME and
  /// REJECT_AFTER_TIME).
  public let created: Duration

  init(
    sending: SecretKey, receiving: SecretKey, localIndex: UInt32, remoteIndex: UInt32,
    isInitiator: Bool, created: Duration
  ) {
    self.sending = ChaCha20Poly1305Key(sending)
    self.receiving = ChaCha20Poly1305Key(receiving)
    self.localIndex = localIndex
    self.remoteIndex = remoteIndex
    self.isInitiator = isInitiator
    self.created = created
  }
}
