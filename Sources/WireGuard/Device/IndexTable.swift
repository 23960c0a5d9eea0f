/// The device's local indices: each names one live handshake (an initiation we sent) or one
/// session, and maps to its peer. Unique while in use; freed when the handshake or session
/// goes. Candidates come from the caller (`HandshakeDeviceSources.index`), so the caller
/// decides which values are possible (for example one worker's share of the index space).
struct IndexTable {
  /// How many candidates to draw before giving up: a random 32-bit candidate collides with a
  /// table of n entries with probability n / 2^32, so failing 64 times in a row means the
  /// source is not random or its space is full.
  static let maximumAttempts = 64

  private(set) var peers: [UInt32: PublicKey] = [:]

  var count: Int { peers.count }

  /// A new index for `peer` drawn from `candidate`, or nil when every one of
  /// `maximumAttempts` candidates was in use.
  mutating func allocate(for peer: PublicKey, candidate: (PublicKey) -> UInt32) -> UInt32? {
    for _ in 0..<Self.maximumAttempts {
      let index = candidate(peer)
      if peers[index] == nil {
        peers[index] = peer
        return index
      }
    }
    return nil
  }

  mutating func free(_ index: UInt32) {
    peers[index] = nil
  }

  func peer(for index: UInt32) -> PublicKey? { peers[index] }
}
