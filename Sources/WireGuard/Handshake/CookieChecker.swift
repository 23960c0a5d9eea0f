/// The responder's half of the cookie mechanism (whitepaper §5.4.7), one per identity.
/// Under load, a handshake message whose mac2 is not valid is answered with a cookie reply
/// instead of being processed: the cookie τ = MAC(Rm, source address bytes), Rm a random
/// secret replaced when older than 2 minutes, sent XChaCha20-Poly1305-encrypted under
/// HASH("cookie--" || our public key) with the triggering message's mac1 as additional data.
/// A sender that proves it received τ (mac2 = MAC(τ, message up to mac2)) gets through.
///
/// Mutable (the secret rotates): used by one thread at a time. Times (`now`) are monotonic,
/// from any fixed origin.
public final class CookieChecker {
  let identity: StaticIdentity
  private var secret: SecretKey?
  private var secretCreated: Duration?

  public init(identity: StaticIdentity) {
    self.identity = identity
  }

  /// The bytes a cookie is bound to: the source IP address (4 or 16 bytes) then the UDP
  /// source port, big-endian.
  public static func sourceBytes(address: [UInt8], port: UInt16) -> [UInt8] {
    address + [UInt8(port >> 8), UInt8(port & 0xff)]
  }

  /// Whether mac1 is valid (see `StaticIdentity.checkMAC1`).
  public func checkMAC1(_ message: UnsafeRawBufferPointer) -> Bool {
    identity.checkMAC1(message)
  }

  /// Whether mac2 of `message` (an initiation or response) is MAC(τ, message up to mac2)
  /// for the cookie τ we would give `source` now. False when the secret is missing or older
  /// than 2 minutes.
  public func checkMAC2(
    _ message: UnsafeRawBufferPointer, source: [UInt8], now: Duration
  ) -> Bool {
    guard message.count >= 32, var cookie = currentCookie(for: source, now: now) else {
      return false
    }
    defer { wipe(&cookie) }
    let mac2Offset = message.count - 16
    let expected = cookie.withUnsafeBytes {
      Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: message[0..<mac2Offset]))
    }
    return expected.withUnsafeBytes {
      constantTimeEqual($0, UnsafeRawBufferPointer(rebasing: message[mac2Offset...]))
    }
  }

  /// Writes the 64-byte cookie reply to `message` (an initiation or response from
  /// `source`, whose mac1 must be valid: else `.badMAC1`) into the start of `reply`: type 3, the message's sender index as receiver,
  /// a random 24-byte nonce, the encrypted cookie. Makes a new secret when there is none or
  /// it is older than 2 minutes. `nonce` is for tests only.
  public func makeReply(
    into reply: UnsafeMutableRawBufferPointer, for message: UnsafeRawBufferPointer,
    source: [UInt8], now: Duration, nonce: [UInt8]? = nil
  ) throws(HandshakeError) {
    guard reply.count >= CookieReplyLayout.size else {
      throw .bufferTooSmall(.cookieReply, reply.count)
    }
    // Only the two handshake messages carry mac1/mac2 and are answered with cookies.
    guard message.count == InitiationLayout.size || message.count == ResponseLayout.size else {
      throw .wrongSize(.handshakeInitiation, message.count)
    }
    // Only a message with a valid mac1 (one made for our public key) is answered, as
    // wireguard-go does: otherwise anyone could make us send replies to a spoofed source.
    guard identity.checkMAC1(message) else {
      let type: MessageType =
        message.count == InitiationLayout.size
        ? .handshakeInitiation : .handshakeResponse
      throw .badMAC1(type)
    }
    if currentSecret(now: now) == nil {
      do {
        secret = try SecretKey.random()
      } catch {
        throw .keyGenerationFailed
      }
      secretCreated = now
    }
    guard var cookie = currentCookie(for: source, now: now) else { throw .keyGenerationFailed }
    defer { wipe(&cookie) }
    let nonceBytes: [UInt8]
    if let nonce {
      precondition(nonce.count == XChaCha20Poly1305.nonceSize, "a cookie nonce is 24 bytes")
      nonceBytes = nonce
    } else {
      guard let random = try? SecretKey.random() else { throw .keyGenerationFailed }
      nonceBytes = random.withUnsafeBytes { Array($0.prefix(XChaCha20Poly1305.nonceSize)) }
    }
    let mac1Offset = message.count - 32
    let encrypted = XChaCha20Poly1305.seal(
      key: identity.cookieKey, nonce: nonceBytes, plaintext: cookie,
      additionalData: Array(message.bytes(in: mac1Offset..<mac1Offset + 16)))
    // Both messages carry the sender index at the same offset: the reply goes back to it.
    let senderIndex = message.readUInt32LE(at: InitiationLayout.senderIndex.lowerBound)
    guard
      let writer = CookieReplyWriter(
        into: reply.bytes(in: 0..<CookieReplyLayout.size), receiverIndex: senderIndex)
    else { throw .bufferTooSmall(.cookieReply, reply.count) }
    writer.nonce.copyBytes(from: nonceBytes)
    writer.encryptedCookie.copyBytes(from: encrypted)
  }

  private func currentSecret(now: Duration) -> SecretKey? {
    guard let secret, let secretCreated, now - secretCreated <= Limits.cookieRefreshTime
    else { return nil }
    return secret
  }

  private func currentCookie(for source: [UInt8], now: Duration) -> [UInt8]? {
    guard let secret = currentSecret(now: now) else { return nil }
    return secret.withUnsafeBytes { secret in
      source.withUnsafeBytes { Blake2s.mac(key: secret, $0) }
    }
  }
}
