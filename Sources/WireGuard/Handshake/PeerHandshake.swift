/// The Noise_IKpsk2 handshake with one peer (whitepaper §5.4), both roles:
///
/// - initiator: `createInitiation` writes message 1 (148 bytes); `consumeResponse` reads
///   message 2 and returns the session's `TransportKeys`;
/// - responder: `StaticIdentity.decryptInitiation` reads message 1 up to the initiator's
///   static key, `consumeInitiation` checks its timestamp (newer than the last accepted
///   from this peer: initiations cannot be replayed) and `createResponse` writes message 2
///   (92 bytes) and returns the `TransportKeys`.
///
/// Indices and ephemeral keys are the caller's to give (the index table is the device's;
/// tests fix the ephemerals); without an ephemeral one is generated. Times (`now`) are
/// monotonic, from any fixed origin: the same clock the caller feeds `PeerTimers`. Holds the
/// secrets of a handshake in progress, wiped when it completes or the object goes. Not
/// thread-safe: one owner drives it.
public final class PeerHandshake {
  public let identity: StaticIdentity
  public let remoteStatic: PublicKey
  /// mac1/mac2 for the messages we send this peer, and the cookies it sends us.
  public let cookies: CookieGenerator
  private var presharedKey: SecretKey
  /// DH(our static, peer's static): fixed for the pair, so computed once.
  private let staticStatic: SecretKey

  private enum Phase {
    case idle
    case initiationSent(localIndex: UInt32, ephemeral: SecretKey)
    case initiationReceived(remoteIndex: UInt32, remoteEphemeral: PublicKey)
  }
  private var phase = Phase.idle
  private var noise: NoiseState?
  /// The newest initiation timestamp accepted from this peer.
  public private(set) var lastTimestamp: TAI64N?
  private var lastInitiationAccepted: Duration?

  /// Fails with `.invalidPublicKey` when `remoteStatic` is a low-order point.
  public init(identity: StaticIdentity, remoteStatic: PublicKey, presharedKey: SecretKey? = nil)
    throws(HandshakeError)
  {
    guard let staticStatic = X25519.sharedSecret(identity.privateKey, remoteStatic) else {
      throw .invalidPublicKey
    }
    self.identity = identity
    self.remoteStatic = remoteStatic
    self.presharedKey = presharedKey ?? SecretKey.zero()
    self.staticStatic = staticStatic
    cookies = CookieGenerator(remoteStatic: remoteStatic)
  }

  deinit { noise?.wipe() }

  /// Replaces the preshared key (a configuration change; nil: none). Handshakes from now on
  /// use it; one in progress is dropped, since its messages were made with the old key.
  public func setPresharedKey(_ key: SecretKey?) {
    presharedKey = key ?? SecretKey.zero()
    reset()
  }

  /// Whether an initiation we sent awaits its response.
  public var initiationPending: Bool {
    if case .initiationSent = phase { return true }
    return false
  }

  /// Forgets any handshake in progress (keeps the replay guard).
  public func reset() {
    noise?.wipe()
    noise = nil
    phase = .idle
  }

  // MARK: Initiator

  /// Writes a handshake initiation (148 bytes) to the start of `buffer`, with mac1 and
  /// (when a cookie is held) mac2. Replaces any handshake in progress.
  public func createInitiation(
    into buffer: UnsafeMutableRawBufferPointer, localIndex: UInt32,
    ephemeral: SecretKey? = nil, timestamp: TAI64N = .now(),
    now: Duration
  ) throws(HandshakeError) {
    guard buffer.count >= InitiationLayout.size else {
      throw .bufferTooSmall(.handshakeInitiation, buffer.count)
    }
    reset()
    let ephemeralKey = try Self.ephemeralKey(ephemeral)
    let ephemeralPublic = X25519.publicKey(of: ephemeralKey)

    var state = NoiseState(responderStatic: remoteStatic)
    state.mixHash(ephemeralPublic.bytes)
    state.mixKey(ephemeralPublic.bytes)
    guard let ephemeralStatic = X25519.sharedSecret(ephemeralKey, remoteStatic) else {
      state.wipe()
      throw .invalidPublicKey
    }
    let staticKey = state.mixKeyAndDeriveKey(ephemeralStatic)
    let encryptedStatic = staticKey.sealed(identity.publicKey.bytes, additionalData: state.hash)
    state.mixHash(encryptedStatic)
    let timestampKey = state.mixKeyAndDeriveKey(staticStatic)
    let encryptedTimestamp = timestampKey.sealed(timestamp.bytes, additionalData: state.hash)
    state.mixHash(encryptedTimestamp)

    let message = buffer.bytes(in: 0..<InitiationLayout.size)
    guard let writer = HandshakeInitiationWriter(into: message, senderIndex: localIndex) else {
      state.wipe()
      throw .bufferTooSmall(.handshakeInitiation, buffer.count)
    }
    writer.unencryptedEphemeral.copyBytes(from: ephemeralPublic.bytes)
    writer.encryptedStatic.copyBytes(from: encryptedStatic)
    writer.encryptedTimestamp.copyBytes(from: encryptedTimestamp)
    cookies.addMACs(to: message, now: now)

    noise = state
    phase = .initiationSent(localIndex: localIndex, ephemeral: ephemeralKey)
  }

  /// Reads a handshake response (92 bytes) to our last initiation and completes the
  /// handshake. On failure the initiation stays pending (a genuine response may follow).
  public func consumeResponse(
    _ message: UnsafeRawBufferPointer, now: Duration
  ) throws(HandshakeError) -> TransportKeys {
    guard message.count == ResponseLayout.size else {
      throw .wrongSize(.handshakeResponse, message.count)
    }
    // The size is right: the view refuses only a wrong type byte or reserved bytes.
    guard let response = HandshakeResponseMessage(message) else {
      throw .wrongHeader(.handshakeResponse)
    }
    guard identity.checkMAC1(message) else { throw .badMAC1(.handshakeResponse) }
    guard case .initiationSent(let localIndex, let ephemeralKey) = phase, let noise else {
      throw .unexpectedMessage(.handshakeResponse)
    }
    let receiver = response.receiverIndex
    guard receiver == localIndex else { throw .wrongReceiverIndex(receiver) }

    var state = noise
    let responderEphemeralBytes = Array(response.unencryptedEphemeral)
    let responderEphemeral = try! PublicKey(bytes: responderEphemeralBytes)
    state.mixHash(responderEphemeralBytes)
    state.mixKey(responderEphemeralBytes)
    guard let ephemeralEphemeral = X25519.sharedSecret(ephemeralKey, responderEphemeral),
      let staticEphemeral = X25519.sharedSecret(identity.privateKey, responderEphemeral)
    else {
      state.wipe()
      throw .invalidPublicKey
    }
    state.mixKey(ephemeralEphemeral)
    state.mixKey(staticEphemeral)
    let key = state.mixPresharedKey(presharedKey)
    guard
      key.opened(Array(response.encryptedNothing), additionalData: state.hash) != nil
    else {
      state.wipe()
      throw .decryptionFailed("response (wrong key or psk)")
    }
    let (sending, receiving) = state.transportKeys()
    state.wipe()
    reset()
    return TransportKeys(
      sending: sending, receiving: receiving, localIndex: localIndex,
      remoteIndex: response.senderIndex, isInitiator: true, created: now)
  }

  // MARK: Responder

  /// Second half of consuming an initiation (after `StaticIdentity.decryptInitiation`):
  /// decrypts the timestamp with the static-static secret, proving the sender holds this
  /// peer's private key, and refuses a timestamp not newer than the last accepted (replay)
  /// or an initiation 20 ms or less after the last accepted (flood; wireguard-go refuses at
  /// the boundary too). Replaces any handshake in
  /// progress.
  public func consumeInitiation(
    _ received: ReceivedInitiation, now: Duration
  ) throws(HandshakeError) {
    guard received.initiatorStatic == remoteStatic else { throw .wrongPeer }
    var state = received.noise
    let key = state.mixKeyAndDeriveKey(staticStatic)
    guard let stampBytes = key.opened(received.encryptedTimestamp, additionalData: state.hash)
    else {
      state.wipe()
      throw .decryptionFailed("initiation timestamp")
    }
    state.mixHash(received.encryptedTimestamp)
    let stamp = TAI64N(bytes: stampBytes)
    if let lastTimestamp, stamp <= lastTimestamp {
      state.wipe()
      throw .replayedTimestamp
    }
    if let lastInitiationAccepted,
      now - lastInitiationAccepted <= NoiseConstants.minimumInitiationInterval
    {
      state.wipe()
      throw .initiationFlood
    }
    reset()
    lastTimestamp = stamp
    lastInitiationAccepted = now
    noise = state
    phase = .initiationReceived(
      remoteIndex: received.senderIndex, remoteEphemeral: received.ephemeral)
  }

  /// Writes the handshake response (92 bytes) to the consumed initiation into the start of
  /// `buffer` and completes the handshake.
  public func createResponse(
    into buffer: UnsafeMutableRawBufferPointer, localIndex: UInt32,
    ephemeral: SecretKey? = nil, now: Duration
  ) throws(HandshakeError) -> TransportKeys {
    guard buffer.count >= ResponseLayout.size else {
      throw .bufferTooSmall(.handshakeResponse, buffer.count)
    }
    guard case .initiationReceived(let remoteIndex, let remoteEphemeral) = phase, var state = noise
    else { throw .unexpectedMessage(.handshakeResponse) }
    let ephemeralKey = try Self.ephemeralKey(ephemeral)
    let ephemeralPublic = X25519.publicKey(of: ephemeralKey)

    state.mixHash(ephemeralPublic.bytes)
    state.mixKey(ephemeralPublic.bytes)
    guard let ephemeralEphemeral = X25519.sharedSecret(ephemeralKey, remoteEphemeral),
      let ephemeralStatic = X25519.sharedSecret(ephemeralKey, remoteStatic)
    else {
      state.wipe()
      reset()
      throw .invalidPublicKey
    }
    state.mixKey(ephemeralEphemeral)
    state.mixKey(ephemeralStatic)
    let key = state.mixPresharedKey(presharedKey)
    let encryptedNothing = key.sealed([], additionalData: state.hash)
    state.mixHash(encryptedNothing)

    let message = buffer.bytes(in: 0..<ResponseLayout.size)
    guard
      let writer = HandshakeResponseWriter(
        into: message, senderIndex: localIndex, receiverIndex: remoteIndex)
    else {
      state.wipe()
      reset()
      throw .bufferTooSmall(.handshakeResponse, buffer.count)
    }
    writer.unencryptedEphemeral.copyBytes(from: ephemeralPublic.bytes)
    writer.encryptedNothing.copyBytes(from: encryptedNothing)
    cookies.addMACs(to: message, now: now)

    let (receiving, sending) = state.transportKeys()
    state.wipe()
    reset()
    return TransportKeys(
      sending: sending, receiving: receiving, localIndex: localIndex, remoteIndex: remoteIndex,
      isInitiator: false, created: now)
  }

  /// The caller's ephemeral key, or a new one.
  private static func ephemeralKey(_ given: SecretKey?) throws(HandshakeError) -> SecretKey {
    if let given { return given }
    do {
      return try X25519.newPrivateKey()
    } catch {
      throw .keyGenerationFailed
    }
  }
}
