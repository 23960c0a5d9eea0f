/// Where each field of the four messages sits (protocol page, "Messages"; every integer is
/// little-endian). The header of every message is the type byte and three reserved zero bytes.
/// The ranges are byte offsets from the start of the datagram, so handshake code can seal a
/// field in place and compute a MAC over the bytes before it.
public enum InitiationLayout {
  public static let size = 148
  public static let senderIndex = 4..<8
  public static let unencryptedEphemeral = 8..<40
  /// The initiator's static public key, sealed: 32 bytes and a 16-byte tag.
  public static let encryptedStatic = 40..<88
  /// The TAI64N timestamp, sealed: 12 bytes and a 16-byte tag.
  public static let encryptedTimestamp = 88..<116
  public static let mac1 = 116..<132
  public static let mac2 = 132..<148
  /// mac1 covers every byte before it; mac2 every byte before it, mac1 included.
  public static let coveredByMAC1 = 0..<116
  public static let coveredByMAC2 = 0..<132
}

public enum ResponseLayout {
  public static let size = 92
  public static let senderIndex = 4..<8
  public static let receiverIndex = 8..<12
  public static let unencryptedEphemeral = 12..<44
  /// An empty plaintext, sealed: only its 16-byte tag.
  public static let encryptedNothing = 44..<60
  public static let mac1 = 60..<76
  public static let mac2 = 76..<92
  public static let coveredByMAC1 = 0..<60
  public static let coveredByMAC2 = 0..<76
}

public enum CookieReplyLayout {
  public static let size = 64
  public static let receiverIndex = 4..<8
  /// The 24-byte XChaCha20-Poly1305 nonce.
  public static let nonce = 8..<32
  /// The 16-byte cookie, sealed: 16 bytes and a 16-byte tag.
  public static let encryptedCookie = 32..<64
}

public enum TransportLayout {
  /// A keepalive: the header and the tag of an empty payload.
  public static let minimumSize = 32
  public static let headerSize = 16
  public static let tagSize = 16
  public static let receiverIndex = 4..<8
  public static let counter = 8..<16
  /// The sealed payload (ciphertext then tag) runs from here to the end of the datagram.
  public static let payloadStart = 16
}
