/// One peer as the device is told about it (flannel: one per remote lease).
public struct WireGuardPeerConfig: Sendable, Equatable {
  /// The peer's static public key: its identity in the device.
  public var publicKey: PublicKey
  /// The preshared key both sides configured, or nil for none (the all-zero key).
  public var presharedKey: SecretKey?
  /// Where to send the peer's handshake messages (flannel: the lease's PublicIP and Port).
  public var endpoint: Endpoint
  /// The persistent keepalive interval; `.zero` for none.
  public var persistentKeepalive: Duration

  public init(
    publicKey: PublicKey, presharedKey: SecretKey? = nil, endpoint: Endpoint,
    persistentKeepalive: Duration = .zero
  ) {
    self.publicKey = publicKey
    self.presharedKey = presharedKey
    self.endpoint = endpoint
    self.persistentKeepalive = persistentKeepalive
  }

  public static func == (lhs: WireGuardPeerConfig, rhs: WireGuardPeerConfig) -> Bool {
    lhs.publicKey == rhs.publicKey && lhs.endpoint == rhs.endpoint
      && lhs.persistentKeepalive == rhs.persistentKeepalive
      && samePresharedKey(lhs.presharedKey, rhs.presharedKey)
  }

  /// nil and the all-zero key are the same preshared key (the protocol uses zeros for none).
  static func samePresharedKey(_ a: SecretKey?, _ b: SecretKey?) -> Bool {
    (a ?? SecretKey.zero()).isEqual(to: b ?? SecretKey.zero())
  }
}

/// Why `HandshakeDevice.setPeers` refused a peer (the others are still applied).
public enum PeerConfigError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The public key is a low-order point: every Diffie-Hellman with it gives zero.
  case invalidPublicKey
  /// The public key is this device's own.
  case ownPublicKey
  /// The same public key appears more than once; the first entry is used.
  case duplicatePublicKey

  public var description: String {
    switch self {
    case .invalidPublicKey:
      "peer PublicKey is a low-order point (no shared secret); give the peer's `wg pubkey` output"
    case .ownPublicKey: "peer PublicKey is this node's own public key; leave our own lease out"
    case .duplicatePublicKey: "peer PublicKey appears twice; the first entry is used"
    }
  }
}
