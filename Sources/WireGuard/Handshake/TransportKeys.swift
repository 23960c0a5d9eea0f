/// The result of a completed handshake: the key to seal what we send and the key to open
/// what we receive, and the two indices that name this session on the wire (a transport
/// message we send carries `remoteIndex`; one we receive carries `localIndex`).
///
/// Holds only immutable key material (wiped when the last reference goes), so it may be
/// shared between threads. The cipher contexts that use it are not: each thread or worker
/// that seals takes its own `makeSealer()`, each that opens its own `makeOpener()`.
public final class TransportKeys: Sendable {
  /// The key for what we send (the initiator's first KDF output, the responder's second).
  let sendingKey: SecretKey
  /// The key for what we receive.
  let receivingKey: SecretKey
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
    sendingKey = sending
    receivingKey = receiving
    self.localIndex = localIndex
    self.remoteIndex = remoteIndex
    self.isInitiator = isInitiator
    self.created = created
  }

  /// A new cipher context for sealing what we send, owned by the calling thread (set up
  /// once per thread or worker, not per packet).
  public func makeSealer() -> ChaCha20Poly1305Key { ChaCha20Poly1305Key(sendingKey) }

  /// A new cipher context for opening what we receive, owned by the calling thread.
  public func makeOpener() -> ChaCha20Poly1305Key { ChaCha20Poly1305Key(receivingKey) }
}
