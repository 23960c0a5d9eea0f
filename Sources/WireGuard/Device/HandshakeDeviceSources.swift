/// Everything random or clock-like a `HandshakeDevice` needs, injected so that the device
/// stays deterministic under test and the caller can constrain local indices.
public struct HandshakeDeviceSources {
  /// A candidate local index for a new handshake with `peer`. The device draws again when
  /// the candidate is in use (up to `64` times), so the caller may return only the values
  /// it wants (for example those its transport steering maps to one worker). Should be
  /// random: indices are visible on the wire.
  public var index: (PublicKey) -> UInt32
  /// The jitter added to retransmission and "no answer" timeouts: 0 to 333 ms.
  public var jitter: () -> Duration
  /// The ephemeral private key of the next handshake message; nil lets the handshake
  /// generate one (OpenSSL's generator).
  public var ephemeral: () -> SecretKey?
  /// The initiation timestamp: wall-clock time (`TAI64N.now()`), so that it keeps growing
  /// across restarts (the responder refuses one not newer than the last it accepted).
  public var timestamp: () -> TAI64N

  public init(
    index: @escaping (PublicKey) -> UInt32, jitter: @escaping () -> Duration,
    ephemeral: @escaping () -> SecretKey?, timestamp: @escaping () -> TAI64N
  ) {
    self.index = index
    self.jitter = jitter
    self.ephemeral = ephemeral
    self.timestamp = timestamp
  }

  /// The system's random generator for indices and jitter, generated ephemerals, the real
  /// clock for timestamps. `acceptIndex` constrains the indices (drawn until one passes: it
  /// must accept a good share of the values).
  public static func system(acceptIndex: @escaping (UInt32) -> Bool = { _ in true })
    -> HandshakeDeviceSources
  {
    HandshakeDeviceSources(
      index: { _ in
        var generator = SystemRandomNumberGenerator()
        while true {
          let index = UInt32.random(in: .min ... .max, using: &generator)
          if acceptIndex(index) { return index }
        }
      },
      jitter: {
        var generator = SystemRandomNumberGenerator()
        let limit = Limits.maximumRekeyJitter / .milliseconds(1)
        return .milliseconds(Int64.random(in: 0...Int64(limit), using: &generator))
      },
      ephemeral: { nil }, timestamp: { TAI64N.now() })
  }
}
