/// The protocol's fixed strings and the two values every handshake starts from
/// (whitepaper §5.4: Ci = HASH(CONSTRUCTION), Hi = HASH(Ci || IDENTIFIER)).
enum NoiseConstants {
  static let construction = Array("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".utf8)
  static let identifier = Array("WireGuard v1 zx2c4 Jason@zx2c4.com".utf8)
  static let labelMAC1 = Array("mac1----".utf8)
  static let labelCookie = Array("cookie--".utf8)

  static let initialChainingKey = Blake2s.hash(construction)
  static let initialHash = Blake2s.hash(initialChainingKey, identifier)

  /// The least time between two initiations accepted from one peer (wireguard-go's
  /// HandshakeInitationRate: 50 per second).
  static let minimumInitiationInterval = Duration.milliseconds(20)
}
