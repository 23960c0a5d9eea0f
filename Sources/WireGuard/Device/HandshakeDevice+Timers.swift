extension HandshakeDevice {
  /// Carries out what the peer's timers asked for, in the order that keeps them consistent:
  /// erase and expire first (so a keepalive due at the same moment finds no stale session),
  /// then abandon, initiate, keepalive. Requeues the peer's deadline.
  func perform(_ actions: PeerTimerActions, for peer: DevicePeer, now: Duration)
    -> [HandshakeOutput]
  {
    var outputs: [HandshakeOutput] = []
    if actions.contains(.zeroKeys) {
      peer.handshake.reset()
      freePendingInitiation(of: peer)
      if !peer.sessions.isEmpty {
        free(peer.sessions.removeAll())
        outputs.append(peer.sessionsChanged)
      }
    }
    if actions.contains(.expireSession) {
      let expired = peer.sessions.expireCurrent(now: now)
      if !expired.isEmpty {
        free(expired)
        outputs.append(peer.sessionsChanged)
      }
    }
    if actions.contains(.abandonHandshake) {
      if peer.handshake.initiationPending { peer.handshake.reset() }
      freePendingInitiation(of: peer)
      counters.handshakesAbandoned += 1
      outputs.append(.handshakeAbandoned(peer: peer.publicKey))
    }
    if actions.contains(.sendInitiation) {
      outputs += sendInitiation(to: peer, now: now)
    }
    if actions.contains(.sendKeepalive) {
      if peer.sessions.sending != nil {
        outputs.append(.sendKeepalive(peer: peer.publicKey))
      } else {
        // Nothing to send it on: the timers' rule is to ask for a session instead.
        let more = peer.timers.handle(.sendWithoutSession, at: now)
        outputs += perform(more.subtracting(.sendKeepalive), for: peer, now: now)
      }
    }
    reschedule(peer)
    return outputs
  }

  /// Makes and sends an initiation with a new local index (the one of an initiation still
  /// pending is freed: its response will not be accepted any more). Reports it to the timers
  /// even when it could not be made, so that it is retried after REKEY_TIMEOUT.
  private func sendInitiation(to peer: DevicePeer, now: Duration) -> [HandshakeOutput] {
    freePendingInitiation(of: peer)
    var outputs: [HandshakeOutput] = []
    if let index = indices.allocate(for: peer.publicKey, candidate: sources.index) {
      var message = [UInt8](repeating: 0, count: InitiationLayout.size)
      do {
        try message.withUnsafeMutableBytes {
          try peer.handshake.createInitiation(
            into: $0, localIndex: index, ephemeral: sources.ephemeral(),
            timestamp: sources.timestamp(), now: now)
        }
        peer.pendingInitiationIndex = index
        counters.initiationsSent += 1
        outputs.append(.send(message, to: peer.endpoint))
      } catch {
        indices.free(index)
        counters.sendFailures += 1
      }
    } else {
      counters.sendFailures += 1
    }
    _ = peer.timers.handle(.initiationSent(jitter: sources.jitter()), at: now)
    return outputs
  }
}
