/// The initiator's half of the cookie mechanism, one per peer: puts mac1 (keyed by
/// HASH("mac1----" || peer's public key)) on every handshake message we send that peer, and
/// mac2 while we hold a cookie from it younger than 2 minutes; takes the cookie out of a
/// cookie reply, which must be bound (as additional data) to the mac1 we last sent. Times
/// (`now`) are monotonic, from any fixed origin.
public final class CookieGenerator {
  private let mac1Key: [UInt8]
  private let cookieKey: SecretKey
  private var lastMAC1: [UInt8]?
  private var cookie: [UInt8]?
  private var cookieReceived: Duration?

  public init(remoteStatic: PublicKey) {
    mac1Key = Blake2s.hash(NoiseConstants.labelMAC1, remoteStatic.bytes)
    var key = Blake2s.hash(NoiseConstants.labelCookie, remoteStatic.bytes)
    cookieKey = try! SecretKey(bytes: key)
    wipe(&key)
  }

  deinit {
    if cookie != nil { wipe(&cookie!) }
  }

  /// Whether a cookie younger than 2 minutes is held (mac2 will be set).
  public func hasCookie(now: Duration) -> Bool {
    currentCookie(now: now) != nil
  }

  /// Fills the last 32 bytes of `message` (an initiation or response, everything before
  /// them written): mac1, then mac2 or 16 zero bytes.
  public func addMACs(
    to message: UnsafeMutableRawBufferPointer, now: Duration
  ) {
    precondition(message.count >= 32, "a handshake message ends in mac1 and mac2")
    let mac1Offset = message.count - 32
    let mac2Offset = message.count - 16
    let mac1 = mac1Key.withUnsafeBytes {
      Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: message[0..<mac1Offset]))
    }
    message.bytes(in: mac1Offset..<mac2Offset).copyBytes(from: mac1)
    lastMAC1 = mac1
    guard let cookie = currentCookie(now: now) else {
      message.bytes(in: mac2Offset..<message.count).initializeMemory(as: UInt8.self, repeating: 0)
      return
    }
    let mac2 = cookie.withUnsafeBytes {
      Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: message[0..<mac2Offset]))
    }
    message.bytes(in: mac2Offset..<message.count).copyBytes(from: mac2)
  }

  /// Takes the cookie from a 64-byte cookie reply. False (and nothing changes) when the
  /// reply is malformed, we sent no message it could answer, or it does not decrypt.
  public func consumeReply(_ reply: UnsafeRawBufferPointer, now: Duration)
    -> Bool
  {
    guard let message = CookieReplyMessage(reply), let lastMAC1 else { return false }
    guard
      let opened = XChaCha20Poly1305.open(
        key: cookieKey, nonce: Array(message.nonce),
        ciphertext: Array(message.encryptedCookie), additionalData: lastMAC1)
    else { return false }
    if cookie != nil { wipe(&cookie!) }
    cookie = opened
    cookieReceived = now
    return true
  }

  private func currentCookie(now: Duration) -> [UInt8]? {
    guard let cookie, let cookieReceived,
      now - cookieReceived <= Limits.cookieRefreshTime
    else { return nil }
    return cookie
  }
}
