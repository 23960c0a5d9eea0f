import Testing

@testable import WireGuard

/// Two `HandshakeDevice`s with fixed keys exchanging their outputs through `DevicePair`'s
/// hand-driven network.
@Suite struct HandshakeDeviceTests {
  static let t0 = Duration.seconds(1000)

  static func senderIndex(_ message: [UInt8]) -> UInt32 {
    message.withUnsafeBytes { $0.readUInt32LE(at: 4) }
  }

  static func contains(_ outputs: [HandshakeOutput], keepaliveTo peer: PublicKey) -> Bool {
    outputs.contains {
      if case .sendKeepalive(let to) = $0 { return to == peer }
      return false
    }
  }

  @Test func initiatorStartsAtOnceAndResponderIsConfirmedByTheFirstTransportMessage() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    let t0 = Self.t0
    let request = a.device.sendRequested(peer: b.publicKey, now: t0)
    let initiation = try #require(sent(request).first)
    #expect(initiation.count == 148 && initiation[0] == 1)
    guard case .send(_, let to) = request[0] else { Issue.record("no send"); return }
    #expect(to == DevicePair.endpointB)

    let answer = b.note(
      b.device.receive(initiation, from: DevicePair.endpointA, now: t0, underLoad: false))
    let response = try #require(sent(answer).first)
    #expect(response.count == 92 && response[0] == 2)
    // The responder may receive on the new session, not send.
    let responder = try #require(sessionIndices(answer))
    #expect(responder.0 == nil && responder.1 == [0x2000])

    let done = a.note(
      a.device.receive(
        response, from: DevicePair.endpointB, now: t0 + .milliseconds(3), underLoad: false))
    let initiator = try #require(sessionIndices(done))
    #expect(initiator.0 == 0x1000 && initiator.1 == [0x1000])
    // The initiator confirms the session to the responder with a keepalive.
    #expect(Self.contains(done, keepaliveTo: b.publicKey))

    let aKeys = try #require(a.sending[b.publicKey])
    let bKeys = try #require(b.receiving[a.publicKey]?.first)
    #expect(keysAgree(aKeys, bKeys))
    #expect(aKeys.remoteIndex == bKeys.localIndex && bKeys.remoteIndex == aKeys.localIndex)
    #expect(aKeys.isInitiator && !bKeys.isInitiator)

    #expect(b.device.peerStatus(a.publicKey)?.lastHandshake == nil)
    let confirmed = b.device.transportReceived(
      peer: a.publicKey, localIndex: bKeys.localIndex, keepalive: true,
      now: t0 + .milliseconds(4))
    let now = try #require(sessionIndices(confirmed))
    #expect(now.0 == 0x2000 && now.1 == [0x2000])
    #expect(b.device.peerStatus(a.publicKey)?.lastHandshake == t0 + .milliseconds(4))

    #expect(a.device.counters.initiationsSent == 1 && a.device.counters.responsesReceived == 1)
    #expect(b.device.counters.initiationsReceived == 1 && b.device.counters.responsesSent == 1)
    #expect(a.device.counters.totalDrops == 0 && b.device.counters.totalDrops == 0)
    let status = try #require(a.device.peerStatus(b.publicKey))
    #expect(status.lastHandshake == t0 + .milliseconds(3) && status.sendingIndex == 0x1000)
    #expect(!status.initiationPending && status.endpoint == DevicePair.endpointB)
  }

  @Test func lostResponseIsRetriedAfterRekeyTimeoutPlusJitterFromANewIndex() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    a.jitter.value = .milliseconds(200)
    let first = a.device.sendRequested(peer: b.publicKey, now: Self.t0)
    #expect(sent(first).count == 1)
    // The initiation is lost; asking again within REKEY_TIMEOUT sends nothing.
    #expect(sent(a.device.sendRequested(peer: b.publicKey, now: Self.t0 + .seconds(1))).isEmpty)
    let due = Self.t0 + .milliseconds(5_200)
    #expect(a.device.nextDeadline == due)
    #expect(sent(a.device.tick(now: due - .milliseconds(1))).isEmpty)
    let retry = a.device.tick(now: due)
    let initiation = try #require(sent(retry).first)
    #expect(Self.senderIndex(initiation) == 0x1001)
    // The first initiation's index is free again: one index in use.
    #expect(a.device.localIndexCount == 1)

    pair.deliver(retry, from: a, now: due)
    let keys = try #require(a.sending[b.publicKey])
    #expect(keys.localIndex == 0x1001)
    #expect(keysAgree(keys, try #require(b.sending[a.publicKey])))
    // Done: nothing more is retransmitted.
    #expect(sent(a.device.tick(now: due + .seconds(6))).isEmpty)
  }

  @Test func initiatorRekeysAfterRekeyAfterTimeAndKeepsThePreviousSessionUntilItExpires()
    throws
  {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    pair.handshake(now: Self.t0)
    let old = try #require(a.sending[b.publicKey])
    // Not yet 120 s old; and the responder never rekeys on time.
    #expect(
      sent(
        a.device.transportSent(
          peer: b.publicKey, keepalive: false, counter: 5, now: Self.t0 + .seconds(119))
      ).isEmpty)
    let rekeyAt = Self.t0 + .seconds(121)
    #expect(
      sent(b.device.transportSent(peer: a.publicKey, keepalive: false, counter: 5, now: rekeyAt))
        .isEmpty)
    let rekey = a.device.transportSent(
      peer: b.publicKey, keepalive: false, counter: 6, now: rekeyAt)
    #expect(sent(rekey).count == 1)
    pair.deliver(rekey, from: a, now: rekeyAt)

    let new = try #require(a.sending[b.publicKey])
    #expect(new !== old)
    #expect(a.receiving[b.publicKey]?.map(\.localIndex) == [new.localIndex, old.localIndex])
    let bNew = try #require(b.sending[a.publicKey])
    #expect(keysAgree(new, bNew))
    #expect(b.receiving[a.publicKey]?.count == 2)

    // The previous session goes when it reaches REJECT_AFTER_TIME.
    #expect(a.device.nextDeadline == Self.t0 + .seconds(180))
    let expired = a.device.tick(now: Self.t0 + .seconds(180))
    let after = try #require(sessionIndices(expired))
    #expect(after.0 == new.localIndex && after.1 == [new.localIndex])
    #expect(a.device.localIndexCount == 1)
  }

  @Test func sessionExpiresAtRejectAfterTimeAndANewSendStartsAHandshake() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    pair.handshake(now: Self.t0)
    let reject = Self.t0 + Limits.rejectAfterTime
    #expect(a.device.nextDeadline == reject && b.device.nextDeadline == reject)
    #expect(sessionIndices(a.device.tick(now: reject - .milliseconds(1))) == nil)
    for side in [a, b] {
      let expired = try #require(sessionIndices(side.device.tick(now: reject)))
      #expect(expired.0 == nil && expired.1.isEmpty)
      #expect(side.device.localIndexCount == 0)
      // What is left is the key erasure, 3 × REJECT_AFTER_TIME after the keys were made.
      #expect(side.device.nextDeadline == Self.t0 + Limits.zeroKeysAfter)
      #expect(side.device.tick(now: Self.t0 + Limits.zeroKeysAfter).isEmpty)
      #expect(side.device.nextDeadline == nil)
    }
    #expect(sent(a.device.sendRequested(peer: b.publicKey, now: reject + .seconds(1))).count == 1)
  }

  @Test func unansweredHandshakeIsAbandonedAfterTwentyInitiations() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    var outputs = a.device.sendRequested(peer: b.publicKey, now: Self.t0)
    while let deadline = a.device.nextDeadline, deadline < Self.t0 + .seconds(200) {
      outputs += a.device.tick(now: deadline)
    }
    #expect(sent(outputs).count == Limits.maximumHandshakeRetries + 2)
    let abandoned = outputs.filter {
      if case .handshakeAbandoned(let peer) = $0 { return peer == b.publicKey }
      return false
    }
    #expect(abandoned.count == 1)
    #expect(a.device.counters.handshakesAbandoned == 1)
    #expect(a.device.peerStatus(b.publicKey)?.initiationPending == false)
    #expect(a.device.localIndexCount == 0)
  }

  @Test func underLoadAnInitiationWithoutMAC2GetsACookieAndTheRetryCarryingItSucceeds() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    let first = try #require(sent(a.device.sendRequested(peer: b.publicKey, now: Self.t0)).first)
    let answer = b.device.receive(
      first, from: DevicePair.endpointA, now: Self.t0, underLoad: true)
    let reply = try #require(sent(answer).first)
    #expect(answer.count == 1 && reply.count == 64 && reply[0] == 3)
    #expect(b.device.counters.cookieRepliesSent == 1)
    #expect(b.device.counters.initiationsReceived == 0)

    #expect(
      a.device.receive(reply, from: DevicePair.endpointB, now: Self.t0, underLoad: false).isEmpty)
    #expect(a.device.counters.cookieRepliesReceived == 1)

    let retryAt = try #require(a.device.nextDeadline)
    let retry = a.device.tick(now: retryAt)
    let second = try #require(sent(retry).first)
    #expect(Array(second[132..<148]) != [UInt8](repeating: 0, count: 16))
    pair.deliver(retry, from: a, now: retryAt, loaded: b)
    #expect(b.device.counters.initiationsReceived == 1)
    #expect(b.device.counters.cookieRepliesSent == 1)
    let keys = try #require(a.sending[b.publicKey])
    #expect(keysAgree(keys, try #require(b.sending[a.publicKey])))
  }

  @Test func aCookieFromAnotherSourceAddressDoesNotPass() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    let first = try #require(sent(a.device.sendRequested(peer: b.publicKey, now: Self.t0)).first)
    let reply = try #require(
      sent(b.device.receive(first, from: DevicePair.endpointA, now: Self.t0, underLoad: true))
        .first)
    _ = a.device.receive(reply, from: DevicePair.endpointB, now: Self.t0, underLoad: false)
    let retryAt = try #require(a.device.nextDeadline)
    let second = try #require(sent(a.device.tick(now: retryAt)).first)
    let elsewhere = Endpoint(address: 0x0a00_0009, port: 51820)
    let again = b.device.receive(second, from: elsewhere, now: retryAt, underLoad: true)
    #expect(sent(again).first?.count == 64)
    #expect(b.device.counters.initiationsReceived == 0)
  }
}
