import WireGuard

/// `HandshakeDevice` driven by a script read from the input: datagrams of any bytes (also
/// shaped as handshake messages, with a valid mac1), real initiations and responses from a
/// peer (one bit flipped or not, under load or not), ticks, transport reports and
/// configuration changes, with time moving forward. Properties, besides never crashing:
/// every received datagram is accounted for (answered, or counted as dropped or accepted);
/// arbitrary bytes never change a session; every datagram sent is a well-formed handshake
/// message; every published session set has distinct indices and sends on one it receives
/// on; after `tick(now)` the next deadline lies after `now`; a real initiation is answered
/// (or, under load, gets a cookie the peer accepts) and its response completes the peer's
/// handshake; a real response starts a session.
enum WGDeviceTarget: ParserTarget {
  static let name = "wgdevice"
  static let requiredChecks = [
    "garbage dropped", "initiation answered", "cookie reply accepted by the peer",
    "response accepted", "responder session confirmed", "tick passed a deadline",
  ]

  static let deviceIdentity = StaticIdentity(
    privateKey: try! SecretKey(bytes: [UInt8](repeating: 0x33, count: 32)))
  static let peerIdentity = StaticIdentity(
    privateKey: try! SecretKey(bytes: [UInt8](repeating: 0x44, count: 32)))
  static let peerEndpoint = Endpoint(address: 0x0a00_0002, port: 51820)
  static let elsewhere = Endpoint(address: 0xc000_0207, port: 4000)
  static let indexValues: UInt32 = 4

  /// What one run keeps between operations.
  final class Run {
    let device: HandshakeDevice
    /// The peer's own handshake with the device (it plays the other end).
    let peer: PeerHandshake
    var now = Duration.seconds(1)
    var peerStamp: Int64 = 1_900_000_000
    var deviceInitiation: [UInt8]?
    var responderIndex: UInt32?

    init(indexBase: UInt32) {
      let draws = Box<UInt32>(0)
      device = HandshakeDevice(
        identity: WGDeviceTarget.deviceIdentity,
        sources: HandshakeDeviceSources(
          // Four values only: collisions and exhaustion (three sessions and an initiation)
          // are reached.
          index: { _ in
            draws.value &+= 1
            return indexBase &+ draws.value % WGDeviceTarget.indexValues
          },
          jitter: { .milliseconds(Int64(draws.value % 334)) },
          ephemeral: {
            draws.value &+= 1
            return try! SecretKey(
              bytes: (0..<32).map { UInt8(truncatingIfNeeded: draws.value &+ $0) })
          },
          timestamp: {
            draws.value &+= 1
            return TAI64N(unixSeconds: 1_800_000_000 + Int64(draws.value), nanoseconds: 0)
          }))
      peer = try! PeerHandshake(
        identity: WGDeviceTarget.peerIdentity, remoteStatic: WGDeviceTarget.deviceIdentity.publicKey
      )
    }
  }

  final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
  }

  static var peerConfig: WireGuardPeerConfig {
    WireGuardPeerConfig(publicKey: peerIdentity.publicKey, endpoint: peerEndpoint)
  }

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    var input = FuzzInput(bytes)
    let run = Run(indexBase: input.u32())
    check(run.device.setPeers([peerConfig], now: run.now), run)
    var operations = 0
    while input.remaining > 0 && operations < 48 {
      operations += 1
      run.now += .milliseconds(Int64(input.u16()))
      let op = input.byte()
      let flag = op & 0x08 != 0
      let underLoad = op & 0x10 != 0
      let source = op & 0x20 != 0 ? elsewhere : peerEndpoint
      switch op & 7 {
      case 0:
        let datagram = Array(input.take(Int(input.u16() % 200)))
        garbage(datagram, source: source, underLoad: underLoad, run)
      case 1:
        garbage(shaped(&input, mac1: flag), source: source, underLoad: underLoad, run)
      case 2:
        peerInitiation(&input, flip: flag, source: source, underLoad: underLoad, run)
      case 3:
        tick(jump: flag, run)
      case 4:
        let outputs = run.device.sendRequested(peer: peerIdentity.publicKey, now: run.now)
        check(outputs, run)
        if let initiation = sent(outputs).first(where: { $0.count == 148 }) {
          run.deviceInitiation = initiation
        }
      case 5:
        peerResponse(&input, flip: flag, source: source, underLoad: underLoad, run)
      case 6:
        let index = flag ? run.responderIndex ?? 0 : input.u32()
        let outputs = run.device.transportReceived(
          peer: peerIdentity.publicKey, localIndex: index, keepalive: underLoad,
          from: op & 0x20 != 0 ? elsewhere : nil, now: run.now)
        check(outputs, run)
        if flag, let responderIndex = run.responderIndex,
          sending(outputs)?.localIndex == responderIndex
        {
          run.responderIndex = nil
          Checks.count("responder session confirmed")
        }
      default:
        configure(&input, op: op, run)
      }
    }
  }

  /// Arbitrary bytes: no session changes; at most a cookie reply (under load, a valid mac1).
  static func garbage(_ datagram: [UInt8], source: Endpoint, underLoad: Bool, _ run: Run) {
    let outputs = received(datagram, source: source, underLoad: underLoad, run)
    for output in outputs {
      guard case .send(let bytes, _) = output, bytes.count == 64, underLoad else {
        fatalError("property failed: arbitrary bytes gave \(output)")
      }
    }
    if outputs.isEmpty { Checks.count("garbage dropped") }
  }

  /// A datagram with a handshake message's header and size, the body from the input, and
  /// optionally a valid mac1 (so that the checks behind it are reached).
  static func shaped(_ input: inout FuzzInput, mac1: Bool) -> [UInt8] {
    let type = [MessageType.handshakeInitiation, .handshakeResponse, .cookieReply][
      Int(input.byte() % 3)]
    var message = [type.rawValue, 0, 0, 0] + Array(input.take(type.size - 4))
    message += [UInt8](repeating: 0, count: type.size - message.count)
    if mac1, type != .cookieReply {
      message.withUnsafeMutableBytes {
        CookieGenerator(remoteStatic: deviceIdentity.publicKey).addMACs(to: $0, now: .zero)
      }
    }
    return message
  }

  /// A real initiation from the peer, maybe with one bit flipped.
  static func peerInitiation(
    _ input: inout FuzzInput, flip: Bool, source: Endpoint, underLoad: Bool, _ run: Run
  ) {
    var initiation = [UInt8](repeating: 0, count: 148)
    run.peerStamp += 1
    let index = input.u32()
    let bit = Int(input.u16()) % (148 * 8)
    do {
      try initiation.withUnsafeMutableBytes {
        try run.peer.createInitiation(
          into: $0, localIndex: index,
          timestamp: TAI64N(unixSeconds: run.peerStamp, nanoseconds: 0), now: run.now)
      }
    } catch {
      fatalError("property failed: the peer could not make an initiation: \(error)")
    }
    if flip { initiation[bit / 8] ^= 1 << UInt8(bit % 8) }
    let outputs = received(initiation, source: source, underLoad: underLoad, run)
    // A flipped bit in mac2 alone still passes when not under load.
    guard let answer = sent(outputs).first else { return }
    if answer.count == 64 {
      let accepted = answer.withUnsafeBytes { run.peer.cookies.consumeReply($0, now: run.now) }
      require(accepted || flip, "the peer refused the device's cookie reply")
      if accepted { Checks.count("cookie reply accepted by the peer") }
      return
    }
    require(answer.count == 92, "an initiation was answered with \(answer.count) bytes")
    run.responderIndex = answer.withUnsafeBytes { $0.load(fromByteOffset: 4, as: UInt32.self) }
    let keys = answer.withUnsafeBytes { try? run.peer.consumeResponse($0, now: run.now) }
    require(keys != nil || flip, "the peer refused the response to its initiation")
    if keys != nil { Checks.count("initiation answered") }
  }

  /// The peer answers the device's last initiation (maybe with one bit flipped).
  static func peerResponse(
    _ input: inout FuzzInput, flip: Bool, source: Endpoint, underLoad: Bool, _ run: Run
  ) {
    let bit = Int(input.u16()) % (92 * 8)
    guard let initiation = run.deviceInitiation else { return }
    run.deviceInitiation = nil
    var response = [UInt8](repeating: 0, count: 92)
    do {
      let received = try initiation.withUnsafeBytes { try peerIdentity.decryptInitiation($0) }
      try run.peer.consumeInitiation(received, now: run.now)
      _ = try response.withUnsafeMutableBytes {
        try run.peer.createResponse(into: $0, localIndex: input.u32(), now: run.now)
      }
    } catch {
      // A replayed or flooding initiation (the same one twice, 20 ms apart): nothing to send.
      return
    }
    if flip { response[bit / 8] ^= 1 << UInt8(bit % 8) }
    let outputs = received(response, source: source, underLoad: underLoad, run)
    if !flip && !underLoad && sending(outputs) != nil { Checks.count("response accepted") }
  }

  static func tick(jump: Bool, _ run: Run) {
    let deadline = run.device.nextDeadline
    if jump, let deadline { run.now = max(run.now, deadline) }
    check(run.device.tick(now: run.now), run)
    if let next = run.device.nextDeadline {
      require(next > run.now, "after tick(\(run.now)) the next deadline is \(next)")
    }
    if let deadline, deadline <= run.now { Checks.count("tick passed a deadline") }
  }

  static func configure(_ input: inout FuzzInput, op: UInt8, _ run: Run) {
    var config = peerConfig
    switch input.byte() % 4 {
    case 0:
      check(
        run.device.transportSent(
          peer: peerIdentity.publicKey, keepalive: op & 0x10 != 0, counter: input.u64(),
          now: run.now), run)
      return
    case 1:
      config.persistentKeepalive = .seconds(Int64(input.byte() % 30))
      if op & 0x10 != 0 { config.presharedKey = SecretKey.zero() }
      if op & 0x20 != 0 { config.endpoint = elsewhere }
    case 2:
      let removed =
        op & 0x40 != 0
        ? run.device.removePeer(peerIdentity.publicKey) : run.device.setPeers([], now: run.now)
      check(removed, run)
      return
    default:
      break
    }
    let configured =
      op & 0x40 != 0
      ? run.device.addOrUpdatePeer(config, now: run.now)
      : run.device.setPeers([config], now: run.now)
    check(configured, run)
  }

  /// Hands `datagram` to the device and checks it was accounted for.
  static func received(_ datagram: [UInt8], source: Endpoint, underLoad: Bool, _ run: Run)
    -> [HandshakeOutput]
  {
    let before = accounted(run.device.counters)
    let outputs = run.device.receive(datagram, from: source, now: run.now, underLoad: underLoad)
    require(
      accounted(run.device.counters) > before, "a datagram was neither answered nor counted")
    check(outputs, run)
    return outputs
  }

  static func accounted(_ counters: HandshakeCounters) -> UInt64 {
    counters.totalDrops + counters.initiationsReceived + counters.responsesReceived
      + counters.cookieRepliesSent + counters.cookieRepliesReceived + counters.sendFailures
  }

  /// Every output well-formed.
  static func check(_ outputs: [HandshakeOutput], _ run: Run) {
    for output in outputs {
      switch output {
      case .send(let bytes, _):
        let kind = bytes.withUnsafeBytes { MessageType.classify($0) }
        require(
          kind == .message(.handshakeInitiation) || kind == .message(.handshakeResponse)
            || kind == .message(.cookieReply), "sent a datagram that classifies as \(kind)")
      case .sessionsChanged(_, let sending, let receiving):
        let indices = receiving.map(\.localIndex)
        require(Set(indices).count == indices.count, "receiving indices repeat: \(indices)")
        require(indices.count <= 3, "more than three sessions: \(indices)")
        if let sending {
          require(indices.contains(sending.localIndex), "sending session not receiving")
        }
      default:
        break
      }
    }
    require(
      run.device.localIndexCount <= Int(indexValues),
      "more indices in use than the source can give")
  }

  static func sent(_ outputs: [HandshakeOutput]) -> [[UInt8]] {
    outputs.compactMap {
      if case .send(let bytes, _) = $0 { return bytes }
      return nil
    }
  }

  static func sending(_ outputs: [HandshakeOutput]) -> TransportKeys? {
    for case .sessionsChanged(_, let sending, _) in outputs.reversed() { return sending }
    return nil
  }
}
