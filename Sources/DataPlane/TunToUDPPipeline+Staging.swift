/// tun → udp with the WireGuard step: packets for a peer with no session that may send wait
/// in their TUN buffers (`TunnelCodec.staging`) while the handshake runs, as WireGuard stages
/// them, and go out — before anything newer for the peer — once a snapshot brings the
/// session. A TSO/USO super-packet waits whole and is cut when it is sealed.
extension TunToUDPPipeline {
  /// Staged packets handled per `releaseStaged` call: each produces at most a flush, two
  /// split sends and a recycle, within what `LoopIntents` holds between two submits.
  static let stagedPerRelease = 32

  /// Keeps TUN buffer `id` (a `length`-byte packet for route `routeIndex`) staged; a packet
  /// it pushed out goes back.
  @inline(never)
  func stage(_ id: Int, length: Int, _ routeIndex: Int, _ tunnel: TunnelCodec) {
    let evicted = tunnel.stage(buffer: id, length: length, routeIndex: routeIndex)
    if evicted >= 0 { intents.append(.recycleTun(evicted)) }
  }

  /// After a snapshot was adopted: hands back the buffers of staged packets it dropped, and
  /// seals and queues the staged packets whose peer has a session now, oldest first per peer
  /// — up to `stagedPerRelease` of them. True when more is left (submit the intents, call
  /// again).
  @inline(never)
  func releaseStaged(_ routes: RouteSnapshot, budget: Int = stagedPerRelease) -> Bool {
    guard let tunnel else { return false }
    var budget = budget
    while budget > 0 {
      let id = tunnel.takeDiscarded()
      guard id >= 0 else { break }
      intents.append(.recycleTun(id))
      budget &-= 1
    }
    tunnel.releasing = true
    while budget > 0, let (item, routeIndex) = tunnel.takeReady() {
      budget &-= 1
      sendStaged(Int(item.id), length: Int(item.length), routeIndex, routes, tunnel)
    }
    tunnel.releasing = false
    return tunnel.hasStagedWork
  }

  private func sendStaged(
    _ id: Int, length: Int, _ routeIndex: Int, _ routes: RouteSnapshot, _ tunnel: TunnelCodec
  ) {
    let nextHop = routes.nextHop(at: routeIndex)
    let packet = tun.buffer(id) + virtioHeaderSize
    if virtioHeaderSize > 0 {
      let virtio = VirtioNetHeader(UnsafeRawPointer(tun.buffer(id)))
      if virtio.gsoType != VirtioNetHeader.gsoNone {
        sealedSuperPacketRead(
          id, virtio, packet, length, nextHop.pointee.address, tunnel, routeIndex)
        return
      }
    }
    let sealed = tunnel.seal(
      packet, length: length, room: tun.bufferSize &- virtioHeaderSize, routeIndex: routeIndex)
    guard sealed > 0 else {
      // Dropped and counted by the tunnel, or (the session ran out of counters meanwhile)
      // not staged twice.
      if sealed == TunnelCodec.mustStage { bank.add(.tunnelStagedDropped) }
      intents.append(.recycleTun(id))
      return
    }
    bank.add(.tunnelStagedSent)
    enqueue(id, length: sealed, nextHop)
  }
}
