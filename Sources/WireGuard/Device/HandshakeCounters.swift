/// Why `HandshakeDevice.receive` dropped a datagram. The raw values run from 0 so that the
/// counts sit in a fixed array.
public enum HandshakeDropReason: Int, Sendable, CaseIterable {
  /// Not a WireGuard message: bad type, size or reserved bytes (`MessageType.classify`).
  case malformed = 0
  /// A transport message: the data path's, not the handshake side's.
  case transportData
  /// mac1 is not for our public key (or the message was altered).
  case badMAC1
  /// An ephemeral key that gives an all-zero shared secret.
  case invalidPublicKey
  /// A field did not decrypt: wrong keys, wrong preshared key, altered message.
  case decryptionFailed
  /// An initiation from a static key that is not a configured peer.
  case unknownPeer
  /// An initiation whose timestamp is not newer than the last one accepted (a replay).
  case replayedTimestamp
  /// An initiation 20 ms or less after the last accepted from the same peer.
  case initiationFlood
  /// Under load, more than 20 handshake messages a second (bursts of 5) from one address.
  case rateLimited
  /// A response or cookie reply to an index we do not hold (or not for an initiation).
  case unknownIndex
  /// A cookie reply that does not decrypt with the peer's key and our last mac1.
  case invalidCookieReply
  /// A handshake message the peer's handshake state does not expect.
  case unexpectedMessage

  /// The reason as a metrics label value.
  public var label: String {
    switch self {
    case .malformed: "malformed"
    case .transportData: "transport_data"
    case .badMAC1: "bad_mac1"
    case .invalidPublicKey: "invalid_public_key"
    case .decryptionFailed: "decryption_failed"
    case .unknownPeer: "unknown_peer"
    case .replayedTimestamp: "replayed_timestamp"
    case .initiationFlood: "initiation_flood"
    case .rateLimited: "rate_limited"
    case .unknownIndex: "unknown_index"
    case .invalidCookieReply: "invalid_cookie_reply"
    case .unexpectedMessage: "unexpected_message"
    }
  }

  /// The reason a refused handshake message is counted under.
  init(_ error: HandshakeError) {
    switch error {
    case .wrongSize, .wrongHeader, .bufferTooSmall: self = .malformed
    case .badMAC1: self = .badMAC1
    case .invalidPublicKey: self = .invalidPublicKey
    case .decryptionFailed, .keyGenerationFailed: self = .decryptionFailed
    case .wrongPeer: self = .unknownPeer
    case .replayedTimestamp: self = .replayedTimestamp
    case .initiationFlood: self = .initiationFlood
    case .unexpectedMessage: self = .unexpectedMessage
    case .wrongReceiverIndex: self = .unknownIndex
    }
  }
}

/// What a `HandshakeDevice` has done since it started: messages sent and accepted, drops by
/// reason.
public struct HandshakeCounters: Sendable, Equatable {
  public internal(set) var initiationsSent: UInt64 = 0
  /// Initiations accepted (authenticated, fresh timestamp).
  public internal(set) var initiationsReceived: UInt64 = 0
  public internal(set) var responsesSent: UInt64 = 0
  /// Responses accepted (a session started as initiator).
  public internal(set) var responsesReceived: UInt64 = 0
  /// Cookie replies sent instead of processing a message (under load, no valid mac2).
  public internal(set) var cookieRepliesSent: UInt64 = 0
  /// Cookie replies accepted (the peer's next message carries mac2).
  public internal(set) var cookieRepliesReceived: UInt64 = 0
  public internal(set) var handshakesAbandoned: UInt64 = 0
  /// Handshake messages we could not make: no free local index from the caller's source, or
  /// the random generator failed.
  public internal(set) var sendFailures: UInt64 = 0
  private var drops = [UInt64](repeating: 0, count: HandshakeDropReason.allCases.count)

  public init() {}

  /// Datagrams dropped for `reason`.
  public subscript(dropped reason: HandshakeDropReason) -> UInt64 { drops[reason.rawValue] }

  public var totalDrops: UInt64 { drops.reduce(0, +) }

  mutating func drop(_ reason: HandshakeDropReason) { drops[reason.rawValue] += 1 }
}
