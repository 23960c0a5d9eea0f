import CLibURing

#if canImport(Glibc)
  import Glibc
#endif

/// udp → tun: a datagram (with UDP GRO, a train of equal-size ones) from a known peer is
/// checked, and each packet in it gets its TTL decremented and is written into the TUN from
/// the same buffer — with receive coalescing, consecutive segments of one flow as one TSO/USO
/// super-packet. The buffer goes back when its last write completes.
extension Forwarder {
  @inline(__always)
  func datagramReceived(_ id: Int, _ result: Int32, _ loop: LoopParts, _ routes: RouteSnapshot) {
    let udp = loop.udp.buffers
    guard result >= 0 else {
      countReadFailure(result)
      udp.recycle(id)
      return
    }
    let buffer = udp.buffer(id)
    let total = ReceivedDatagram.payloadLength(UnsafeRawPointer(buffer))
    let segment = ReceivedDatagram.segmentSize(UnsafeRawPointer(buffer)) ?? max(total, 1)
    let packets = total == 0 ? 1 : (total &+ segment &- 1) / segment
    bank.add(.udpReceives)
    bank.add(.udpPacketsReceived, UInt64(packets))
    bank.add(.udpBytesReceived, UInt64(total))
    // Posted with MSG_TRUNC: payloadlen is the real length even when it did not fit.
    guard segment <= configuration.maxDatagramSize,
      ReceivedDatagram.flags(UnsafeRawPointer(buffer)) & Int32(MSG_TRUNC) == 0
    else {
      bank.add(.dropTruncated, UInt64(packets))
      udp.recycle(id)
      return
    }
    if !configuration.acceptAnySource {
      let from = ReceivedDatagram.source(UnsafeRawPointer(buffer))
      guard routes.isKnownSource(address: from.address) else {
        bank.add(.dropUnknownSource, UInt64(packets))
        udp.recycle(id)
        return
      }
    }
    let writes: Int32
    if var train = loop.udpToTun.train(for: id) {
      writeTrain(id, buffer, total: total, segment: segment, &train, loop)
      writes = train.writes
    } else {
      writes = writePlain(id, buffer, total: total, segment: segment, loop)
    }
    if writes == 0 {
      udp.recycle(id)
    } else {
      loop.udpToTun.pendingWrites[id] = writes
    }
  }

  /// With a virtio header: each packet of the train as [zero header, packet], or merged into
  /// the super-packet being built when it continues one flow.
  @inline(__always)
  private func writeTrain(
    _ id: Int, _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int,
    _ train: inout TrainWrites, _ loop: LoopParts
  ) {
    let coalescing = offloadState.coalescesTCP
    let coalescingUDP = offloadState.coalescesUDP
    var offset = 0
    repeat {
      let (packet, length, verdict) = Self.trainPacket(
        buffer, total: total, segment: segment, offset: &offset)
      guard verdict == .forward else {
        bank.add(Counter.drop(for: verdict))
        continue
      }
      if coalescing,
        let candidate = MergeCandidate(
          UnsafeRawPointer(packet), length: length, udp: coalescingUDP)
      {
        coalesce(id, packet, length, candidate, &train, loop)
        continue
      }
      flushCoalesced(id, &train, loop)
      guard train.writes < UDPToTunBuffers.writesPerBuffer,
        train.used &+ 2 <= UDPToTunBuffers.vectorsPerBuffer
      else {
        bank.add(.dropTunWriteError)
        continue
      }
      // [zero virtio header, packet]: a plain packet with complete checksums.
      let pair = train.vectors + train.used
      pair[0] = iovec(iov_base: loop.udpToTun.zeroHeader, iov_len: virtioHeaderSize)
      pair[1] = iovec(iov_base: packet, iov_len: length)
      guard loop.tun.prepareWritev(loop.submitter, pair, count: 2, as: .tunWrite, id: id) else {
        bank.add(.dropTunWriteError)
        continue
      }
      train.used &+= 2
      train.writes &+= 1
    } while offset < total
    flushCoalesced(id, &train, loop)
  }

  /// Adds a merge candidate to the super-packet being built, or (when it does not continue
  /// it) flushes that one and starts a new one with it.
  @inline(__always)
  private func coalesce(
    _ id: Int, _ packet: UnsafeMutableRawPointer, _ length: Int, _ candidate: MergeCandidate,
    _ train: inout TrainWrites, _ loop: LoopParts
  ) {
    if train.used < UDPToTunBuffers.vectorsPerBuffer,
      train.append(UnsafeRawPointer(packet), candidate)
    {
      train.vectors[train.used] = iovec(
        iov_base: packet + candidate.headerLength, iov_len: length &- candidate.headerLength)
      train.used &+= 1
      return
    }
    flushCoalesced(id, &train, loop)
    guard train.writes < UDPToTunBuffers.writesPerBuffer,
      train.used &+ 2 <= UDPToTunBuffers.vectorsPerBuffer
    else {
      bank.add(.dropTunWriteError)
      return
    }
    // [header slot, first packet]; finish() fills the slot.
    train.first = train.used
    train.vectors[train.used] = iovec(
      iov_base: train.headerSlots + Int(train.writes) &* UDPToTunBuffers.headerSlotSize,
      iov_len: virtioHeaderSize)
    train.vectors[train.used &+ 1] = iovec(iov_base: packet, iov_len: length)
    train.used &+= 2
    train.start(packet, candidate)
  }

  /// Ends the super-packet being built in `train` (if any) and posts its WRITEV: one
  /// segment goes as a plain packet, several as one TSO or USO super-packet.
  @inline(__always)
  private func flushCoalesced(_ id: Int, _ train: inout TrainWrites, _ loop: LoopParts) {
    guard train.building else { return }
    let slot = train.vectors[train.first].iov_base!
    let (segments, udp) = train.finish(virtioHeader: slot)
    let count = train.used &- train.first
    let operation: RingOperation = segments > 1 ? .tunWriteCoalesced : .tunWrite
    guard
      loop.tun.prepareWritev(
        loop.submitter, train.vectors + train.first, count: count, as: operation, id: id)
    else {
      bank.add(.dropTunWriteError)
      return
    }
    if segments > 1 {
      bank.add(udp ? .tunCoalescedUDPWrites : .tunCoalescedWrites)
      bank.add(udp ? .tunCoalescedUDPPackets : .tunCoalescedPackets, UInt64(segments))
    }
    train.writes &+= 1
  }

  /// Without a virtio header: one WRITE per packet of the train; returns how many.
  @inline(__always)
  private func writePlain(
    _ id: Int, _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int, _ loop: LoopParts
  ) -> Int32 {
    var writes: Int32 = 0
    var offset = 0
    repeat {
      let (packet, length, verdict) = Self.trainPacket(
        buffer, total: total, segment: segment, offset: &offset)
      guard verdict == .forward,
        loop.tun.prepareWrite(loop.submitter, packet, length: length, as: .tunWrite, id: id)
      else {
        bank.add(Counter.drop(for: verdict))
        continue
      }
      writes &+= 1
    } while offset < total
    return writes
  }

  /// The packet of a received train at `offset` (which moves to the next one), checked and,
  /// when it may be forwarded, with its TTL decremented.
  @inline(__always)
  private static func trainPacket(
    _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int, offset: inout Int
  ) -> (UnsafeMutableRawPointer, Int, PacketVerdict) {
    let length = min(segment, total &- offset)
    let packet = buffer + (ReceivedDatagram.payloadOffset &+ offset)
    offset &+= segment
    var verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    if verdict == .forward { verdict = IPv4Packet.decrementTTL(packet) }
    return (packet, length, verdict)
  }

  /// A TUN write from udp buffer `id` completed; the buffer goes back after its last one.
  @inline(__always)
  func tunWriteCompleted(_ id: Int, _ result: Int32, coalesced: Bool, _ loop: LoopParts) {
    if result < 0 {
      bank.add(.dropTunWriteError)
      if coalesced { offloadFailed(.coalescedWrite, errno: -result) }
    } else {
      bank.add(.tunPacketsWritten)
      bank.add(.tunBytesWritten, UInt64(max(Int(result) &- virtioHeaderSize, 0)))
    }
    let pending = loop.udpToTun.pendingWrites
    pending[id] &-= 1
    if pending[id] == 0 { loop.udp.buffers.recycle(id) }
  }
}
