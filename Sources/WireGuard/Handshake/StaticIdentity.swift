/// Our side of every handshake: the long-term private key, its public key, and the two keys
/// derived from that public key for messages sent to us — the mac1 key
/// HASH("mac1----" || public) and the cookie encryption key HASH("cookie--" || public).
/// Immutable; shared by every peer's handshake.
public final class StaticIdentity: @unchecked Sendable {
  public let privateKey: SecretKey
  public let publicKey: PublicKey
  /// Keys mac1 of the initiations and responses sent to us.
  let mac1Key: [UInt8]
  /// Encrypts the cookies we send in cookie replies.
  let cookieKey: SecretKey

  public init(privateKey: SecretKey) {
    self.privateKey = privateKey
    publicKey = X25519.publicKey(of: privateKey)
    mac1Key = Blake2s.hash(NoiseConstants.labelMAC1, publicKey.bytes)
    var cookie = Blake2s.hash(NoiseConstants.labelCookie, publicKey.bytes)
    cookieKey = try! SecretKey(bytes: cookie)
    wipe(&cookie)
  }

  /// Whether mac1 of `message` (an initiation or response: mac1 sits 32 bytes from the end)
  /// is MAC(HASH("mac1----" || our public key), everything before it). Cheap: checked before
  /// any Diffie-Hellman.
  public func checkMAC1(_ message: UnsafeRawBufferPointer) -> Bool {
    guard message.count >= 32 else { return false }
    let mac1Offset = message.count - 32
    let expected = mac1Key.withUnsafeBytes {
      Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: message[0..<mac1Offset]))
    }
    return expected.withUnsafeBytes {
      constantTimeEqual(
        $0, UnsafeRawBufferPointer(rebasing: message[mac1Offset..<(mac1Offset + 16)]))
    }
  }

  /// Responder, first half of consuming an initiation: checks size, header and mac1,
  /// decrypts the initiator's static key. The caller looks the peer up by
  /// `initiatorStatic` and hands the result to that peer's `PeerHandshake.consumeInitiation`.
  public func decryptInitiation(_ message: UnsafeRawBufferPointer) throws(HandshakeError)
    -> ReceivedInitiation
  {
    guard message.count == InitiationLayout.size else {
      throw .wrongSize(.handshakeInitiation, message.count)
    }
    // The size is right: the view refuses only a wrong type byte or reserved bytes.
    guard let initiation = HandshakeInitiationMessage(message) else {
      throw .wrongHeader(.handshakeInitiation)
    }
    guard checkMAC1(message) else { throw .badMAC1(.handshakeInitiation) }

    var noise = NoiseState(responderStatic: publicKey)
    let ephemeralBytes = Array(initiation.unencryptedEphemeral)
    let ephemeral = try! PublicKey(bytes: ephemeralBytes)
    noise.mixHash(ephemeralBytes)
    noise.mixKey(ephemeralBytes)
    guard let ephemeralStatic = X25519.sharedSecret(privateKey, ephemeral) else {
      noise.wipe()
      throw .invalidPublicKey
    }
    let key = noise.mixKeyAndDeriveKey(ephemeralStatic)
    let encryptedStatic = Array(initiation.encryptedStatic)
    guard let staticBytes = key.opened(encryptedStatic, additionalData: noise.hash) else {
      noise.wipe()
      throw .decryptionFailed("initiation static key")
    }
    noise.mixHash(encryptedStatic)
    return ReceivedInitiation(
      initiatorStatic: try! PublicKey(bytes: staticBytes),
      senderIndex: initiation.senderIndex, ephemeral: ephemeral,
      encryptedTimestamp: Array(initiation.encryptedTimestamp), noise: noise)
  }
}

/// An initiation whose static key has been decrypted (`StaticIdentity.decryptInitiation`),
/// waiting for its peer's handshake to check the timestamp. Holds handshake secrets; they
/// are wiped with it.
public final class ReceivedInitiation {
  /// Who says they sent it (proven only once the timestamp decrypts).
  public let initiatorStatic: PublicKey
  /// The initiator's index: the receiver index of our response.
  public let senderIndex: UInt32
  let ephemeral: PublicKey
  let encryptedTimestamp: [UInt8]
  var noise: NoiseState

  init(
    initiatorStatic: PublicKey, senderIndex: UInt32, ephemeral: PublicKey,
    encryptedTimestamp: [UInt8], noise: NoiseState
  ) {
    self.initiatorStatic = initiatorStatic
    self.senderIndex = senderIndex
    self.ephemeral = ephemeral
    self.encryptedTimestamp = encryptedTimestamp
    self.noise = noise
  }

  deinit { noise.wipe() }
}
