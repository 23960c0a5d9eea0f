extension HandshakeDevice {
  /// Handles one received datagram that is a handshake message: an initiation (answered with
  /// a response), a response (starts a session as initiator) or a cookie reply (kept for the
  /// next initiation's mac2). Anything else, and any message that fails a check, is counted
  /// by reason (`counters`) and dropped.
  ///
  /// `underLoad` (the caller's call, from its queue depth): an initiation or response with a
  /// valid mac1 but no valid mac2 is answered with a cookie reply instead of being processed,
  /// so that its sender must prove it owns its source address before we spend
  /// Diffie-Hellman work on it; one with a valid mac2 is still limited to 20 a second (bursts
  /// of 5) per source address.
  public func receive(
    _ datagram: UnsafeRawBufferPointer, from source: Endpoint, now: Duration, underLoad: Bool
  ) -> [HandshakeOutput] {
    switch MessageType.classify(datagram) {
    case .drop:
      return dropped(.malformed)
    case .message(.transportData):
      return dropped(.transportData)
    case .message(.cookieReply):
      return receiveCookieReply(datagram, now: now)
    case .message(let type):
      // An initiation or a response: mac1 first (cheap, keyed by our public key), then the
      // cookie check under load, then the Diffie-Hellman work.
      guard identity.checkMAC1(datagram) else { return dropped(.badMAC1) }
      if underLoad {
        guard cookieChecker.checkMAC2(datagram, source: source.cookieSource, now: now) else {
          return cookieReply(to: datagram, from: source, now: now)
        }
        guard rateLimiter.allow(source.address, now: now) else { return dropped(.rateLimited) }
      }
      return type == .handshakeInitiation
        ? receiveInitiation(datagram, from: source, now: now)
        : receiveResponse(datagram, from: source, now: now)
    }
  }

  /// `receive` over an array.
  public func receive(_ datagram: [UInt8], from source: Endpoint, now: Duration, underLoad: Bool)
    -> [HandshakeOutput]
  {
    datagram.withUnsafeBytes { receive($0, from: source, now: now, underLoad: underLoad) }
  }

  private func dropped(_ reason: HandshakeDropReason) -> [HandshakeOutput] {
    counters.drop(reason)
    return []
  }

  private func cookieReply(to message: UnsafeRawBufferPointer, from source: Endpoint, now: Duration)
    -> [HandshakeOutput]
  {
    var reply = [UInt8](repeating: 0, count: CookieReplyLayout.size)
    do {
      try reply.withUnsafeMutableBytes {
        try cookieChecker.makeReply(into: $0, for: message, source: source.cookieSource, now: now)
      }
    } catch {
      counters.sendFailures += 1
      return []
    }
    counters.cookieRepliesSent += 1
    return [.send(reply, to: source)]
  }

  /// Responder: authenticates the initiation, answers it from a new local index, and keeps
  /// the new session unconfirmed (`next`) until the initiator's first transport message.
  private func receiveInitiation(
    _ message: UnsafeRawBufferPointer, from source: Endpoint, now: Duration
  ) -> [HandshakeOutput] {
    let received: ReceivedInitiation
    do {
      received = try identity.decryptInitiation(message)
    } catch {
      return dropped(HandshakeDropReason(error))
    }
    guard let peer = peers[received.initiatorStatic] else { return dropped(.unknownPeer) }
    do {
      try peer.handshake.consumeInitiation(received, now: now)
    } catch {
      return dropped(HandshakeDropReason(error))
    }
    counters.initiationsReceived += 1
    // Consuming it replaced any initiation of ours in progress: its response cannot complete.
    freePendingInitiation(of: peer)
    var outputs = roam(peer, to: source)
    var actions = peer.timers.handle(.handshakeReceived, at: now)

    guard let index = indices.allocate(for: peer.publicKey, candidate: sources.index) else {
      peer.handshake.reset()
      counters.sendFailures += 1
      return outputs + perform(actions, for: peer, now: now)
    }
    var response = [UInt8](repeating: 0, count: ResponseLayout.size)
    let keys: TransportKeys
    do {
      keys = try response.withUnsafeMutableBytes {
        try peer.handshake.createResponse(
          into: $0, localIndex: index, ephemeral: sources.ephemeral(), now: now)
      }
    } catch {
      indices.free(index)
      counters.sendFailures += 1
      return outputs + perform(actions, for: peer, now: now)
    }
    counters.responsesSent += 1
    outputs.append(.send(response, to: source))
    actions.formUnion(peer.timers.handle(.responseSent, at: now))
    free(peer.sessions.beginAsResponder(keys))
    outputs.append(peer.sessionsChanged)
    return outputs + perform(actions, for: peer, now: now)
  }

  /// Initiator: the response to our pending initiation makes the new session current at once.
  private func receiveResponse(
    _ message: UnsafeRawBufferPointer, from source: Endpoint, now: Duration
  ) -> [HandshakeOutput] {
    let receiver = message.readUInt32LE(at: ResponseLayout.receiverIndex.lowerBound)
    guard let key = indices.peer(for: receiver), let peer = peers[key],
      peer.pendingInitiationIndex == receiver
    else { return dropped(.unknownIndex) }
    let keys: TransportKeys
    do {
      keys = try peer.handshake.consumeResponse(message, now: now)
    } catch {
      return dropped(HandshakeDropReason(error))
    }
    counters.responsesReceived += 1
    // The initiation's index now names the session.
    peer.pendingInitiationIndex = nil
    var outputs = roam(peer, to: source)
    var actions = peer.timers.handle(.handshakeReceived, at: now)
    actions.formUnion(
      peer.timers.handle(.sessionStarted(isInitiator: true, keysCreated: keys.created), at: now))
    actions.formUnion(peer.timers.handle(.handshakeCompleted, at: now))
    free(peer.sessions.beginAsInitiator(keys))
    peer.lastHandshake = now
    outputs.append(peer.sessionsChanged)
    return outputs + perform(actions, for: peer, now: now)
  }

  /// A cookie reply to a message we sent from that index: the peer's next handshake message
  /// carries mac2 (the retransmission timer sends it; nothing is sent now).
  private func receiveCookieReply(_ message: UnsafeRawBufferPointer, now: Duration)
    -> [HandshakeOutput]
  {
    let receiver = message.readUInt32LE(at: CookieReplyLayout.receiverIndex.lowerBound)
    guard let key = indices.peer(for: receiver), let peer = peers[key] else {
      return dropped(.unknownIndex)
    }
    guard peer.handshake.cookies.consumeReply(message, now: now) else {
      return dropped(.invalidCookieReply)
    }
    counters.cookieRepliesReceived += 1
    return []
  }
}
