/// Why a handshake message was not made or not accepted. A refused message is counted and
/// dropped by the caller; none of these is fatal.
public enum HandshakeError: Error, Equatable, CustomStringConvertible {
  /// The datagram is not the size of that message.
  case wrongSize(MessageType, Int)
  /// The first four bytes are not the message's type and three zero bytes.
  case wrongHeader(MessageType)
  /// mac1 does not match: not meant for our key, or altered.
  case badMAC1(MessageType)
  /// A public key whose Diffie-Hellman result is all zero (a low-order point).
  case invalidPublicKey
  /// A field did not decrypt (wrong key, wrong psk, altered message).
  case decryptionFailed(String)
  /// An initiation from a different static key than this peer's.
  case wrongPeer
  /// The initiation's timestamp is not newer than the last accepted from this peer.
  case replayedTimestamp
  /// Another initiation from this peer came 20 ms or less after the last accepted one.
  case initiationFlood
  /// The message does not fit the handshake's state (a response with no initiation sent,
  /// a response to create with no initiation received).
  case unexpectedMessage(MessageType)
  /// The response is addressed to another index than our initiation's.
  case wrongReceiverIndex(UInt32)
  /// The caller's buffer cannot hold the message.
  case bufferTooSmall(MessageType, Int)
  /// A key could not be made (OpenSSL's random generator failed).
  case keyGenerationFailed

  public var description: String {
    switch self {
    case .wrongSize(let type, let size): "\(type) is \(size) bytes, want \(type.size)"
    case .wrongHeader(let type): "\(type): first four bytes are not \(type.rawValue), 0, 0, 0"
    case .badMAC1(let type): "\(type): mac1 does not match our public key"
    case .invalidPublicKey: "public key gives an all-zero shared secret (low-order point)"
    case .decryptionFailed(let field): "\(field) does not decrypt (wrong key, psk or altered)"
    case .wrongPeer: "initiation is from another static key than this peer's"
    case .replayedTimestamp: "initiation timestamp is not newer than the last one (replay)"
    case .initiationFlood: "initiation 20 ms or less after the last accepted one"
    case .unexpectedMessage(let type): "\(type) does not fit the handshake state"
    case .wrongReceiverIndex(let index): "response for index \(index), not our initiation's"
    case .bufferTooSmall(let type, let size): "buffer of \(size) bytes cannot hold \(type)"
    case .keyGenerationFailed: "could not generate an ephemeral key (RAND_bytes failed)"
    }
  }
}
