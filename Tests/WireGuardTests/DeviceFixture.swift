@testable import WireGuard

/// A settable value shared by a fixture and the closures it hands a device.
final class Box<Value> {
  var value: Value
  init(_ value: Value) { self.value = value }
}

/// One `HandshakeDevice` with deterministic sources: indices from `indexBase` upwards (or
/// from `indices` when set), a fixed jitter, generated ephemerals, timestamps one second
/// apart.
final class TestDevice {
  let identity: StaticIdentity
  let endpoint: Endpoint
  let device: HandshakeDevice
  let nextIndex: Box<UInt32>
  /// When not empty, the indices handed out in turn (cycling) instead of counting up.
  let indices = Box<[UInt32]>([])
  let jitter = Box(Duration.zero)
  /// The latest `.sessionsChanged` per peer, as the data path would publish it.
  var sending: [PublicKey: TransportKeys] = [:]
  var receiving: [PublicKey: [TransportKeys]] = [:]

  init(privateKey: String, endpoint: Endpoint, indexBase: UInt32) {
    identity = StaticIdentity(privateKey: HandshakeFixture.key(privateKey))
    self.endpoint = endpoint
    let nextIndex = Box(indexBase)
    let indices = self.indices
    let jitter = self.jitter
    let stamp = Box(Int64(1_800_000_000))
    self.nextIndex = nextIndex
    device = HandshakeDevice(
      identity: identity,
      sources: HandshakeDeviceSources(
        index: { _ in
          if !indices.value.isEmpty {
            let index = indices.value.removeFirst()
            indices.value.append(index)
            return index
          }
          defer { nextIndex.value &+= 1 }
          return nextIndex.value
        },
        jitter: { jitter.value }, ephemeral: { nil },
        timestamp: {
          stamp.value += 1
          return TAI64N(unixSeconds: stamp.value, nanoseconds: 0)
        }))
  }

  var publicKey: PublicKey { identity.publicKey }

  func config(persistentKeepalive: Duration = .zero, psk: SecretKey? = nil) -> WireGuardPeerConfig {
    WireGuardPeerConfig(
      publicKey: publicKey, presharedKey: psk, endpoint: endpoint,
      persistentKeepalive: persistentKeepalive)
  }

  /// Records the sessions in `outputs`, and returns them.
  @discardableResult
  func note(_ outputs: [HandshakeOutput]) -> [HandshakeOutput] {
    for case .sessionsChanged(let peer, let send, let receive) in outputs {
      sending[peer] = send
      receiving[peer] = receive
    }
    return outputs
  }
}

/// Two devices that know each other (A and B: RFC 7748's Alice and Bob keys), joined by a
/// hand-driven network: `deliver` hands `.send` outputs to the device at their endpoint and
/// plays the data path for keepalives (the sender reports `transportSent`, the receiver
/// `transportReceived` on the index the sender's session names).
final class DevicePair {
  static let endpointA = Endpoint(address: 0x0a00_0001, port: 51820)
  static let endpointB = Endpoint(address: 0x0a00_0002, port: 51820)
  let a = TestDevice(
    privateKey: HandshakeFixture.initiatorPrivate, endpoint: endpointA, indexBase: 0x1000)
  let b = TestDevice(
    privateKey: HandshakeFixture.responderPrivate, endpoint: endpointB, indexBase: 0x2000)
  /// Every datagram `deliver` carried, in order, with the side that sent it.
  var wire: [(from: Endpoint, bytes: [UInt8])] = []

  /// Configures both devices with each other; returns A's and B's outputs.
  init(
    persistentKeepalive: Duration = .zero, now: Duration = .seconds(1000)
  ) {
    a.note(a.device.setPeers([b.config(persistentKeepalive: persistentKeepalive)], now: now))
    b.note(b.device.setPeers([a.config(persistentKeepalive: persistentKeepalive)], now: now))
  }

  func device(at endpoint: Endpoint) -> TestDevice? {
    endpoint == a.endpoint ? a : endpoint == b.endpoint ? b : nil
  }

  func other(_ side: TestDevice) -> TestDevice { side === a ? b : a }

  /// Carries out `outputs` of `side` and everything they cause, until nothing is left.
  /// `lose` drops a datagram on the way (its bytes); `loaded` receives under load.
  func deliver(
    _ outputs: [HandshakeOutput], from side: TestDevice, now: Duration,
    loaded: TestDevice? = nil, lose: ([UInt8]) -> Bool = { _ in false }
  ) {
    var queue: [(TestDevice, HandshakeOutput)] = side.note(outputs).map { (side, $0) }
    while !queue.isEmpty {
      let (sender, output) = queue.removeFirst()
      switch output {
      case .send(let bytes, let to):
        wire.append((sender.endpoint, bytes))
        guard !lose(bytes), let receiver = device(at: to) else { continue }
        let answers = receiver.note(
          receiver.device.receive(
            bytes, from: sender.endpoint, now: now, underLoad: receiver === loaded))
        queue += answers.map { (receiver, $0) }
      case .sendKeepalive(let peer):
        guard let keys = sender.sending[peer] else { continue }
        let receiver = other(sender)
        let sent = sender.note(
          sender.device.transportSent(peer: peer, keepalive: true, counter: 0, now: now))
        queue += sent.map { (sender, $0) }
        let received = receiver.note(
          receiver.device.transportReceived(
            peer: sender.publicKey, localIndex: keys.remoteIndex, keepalive: true, now: now))
        queue += received.map { (receiver, $0) }
      default:
        continue
      }
    }
  }

  /// A starts a handshake at `now` and everything is delivered.
  func handshake(now: Duration) {
    deliver(a.device.sendRequested(peer: b.publicKey, now: now), from: a, now: now)
  }
}

/// The `.send` outputs' bytes.
func sent(_ outputs: [HandshakeOutput]) -> [[UInt8]] {
  outputs.compactMap {
    if case .send(let bytes, _) = $0 { return bytes }
    return nil
  }
}

/// The sessions in the last `.sessionsChanged` of `outputs`, as (sending index, receiving
/// indices); nil when there is none.
func sessionIndices(_ outputs: [HandshakeOutput]) -> (UInt32?, [UInt32])? {
  for case .sessionsChanged(_, let sending, let receiving) in outputs.reversed() {
    return (sending?.localIndex, receiving.map(\.localIndex))
  }
  return nil
}

/// Whether a session's sending key opens on the other's receiving key, both ways.
func keysAgree(_ first: TransportKeys, _ second: TransportKeys) -> Bool {
  let payload = Array("ping through the tunnel".utf8)
  return transport(payload, from: first.makeSealer(), to: second.makeOpener(), counter: 3)
    == payload
    && transport(payload, from: second.makeSealer(), to: first.makeOpener(), counter: 9)
      == payload
}
