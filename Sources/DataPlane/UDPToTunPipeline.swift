import CLibURing
import WireGuard

#if canImport(Glibc)
  import Glibc
#endif

/// udp → tun, decided without the ring: a datagram (with UDP GRO, a train of equal-size ones)
/// from a known peer is checked, and each packet in it gets its TTL decremented and is written
/// into the TUN from the same buffer — with receive coalescing, consecutive segments of one
/// flow as one TSO/USO super-packet. The buffer goes back when its last write completes. The
/// result is a list of `LoopIntent`s the loop submits. Forwarder thread only.
final class UDPToTunPipeline {
  let udp: PacketBuffers
  let state: UDPToTunBuffers
  let offloads: SharedOffloadState
  let bank: CounterBank
  let intents: LoopIntents
  /// Bytes of `VirtioNetHeader` before every packet written (0 without IFF_VNET_HDR).
  let virtioHeaderSize: Int
  /// Datagrams longer than this are dropped and counted as truncated.
  let maxDatagramSize: Int
  /// Take datagrams from any sender, not only from a lease's PublicIP.
  let acceptAnySource: Bool
  /// A dual-stack network (the udp backend): IPv6 packets are forwarded when their source lies
  /// in the sending peer's IPv6 subnet; false: dropped as not IPv4.
  let ipv6: Bool
  /// The WireGuard step (nil for the udp backend): every datagram is a WireGuard message,
  /// opened in place (authenticated: no source-address check), its packet 16 bytes in.
  let tunnel: TunnelCodec?
  /// The socket is AF_INET6 (an IPv6-only network, udp backend): senders are PublicIPv6es,
  /// and only IPv6 packets are forwarded. Decided once per datagram, never per packet.
  let underlayIPv6: Bool
  /// Where each buffer holds the UDP_GRO cmsg and the payload (the socket family's).
  let controlOffset: Int
  let payloadOffset: Int

  init(
    udp: PacketBuffers, state: UDPToTunBuffers, offloads: SharedOffloadState, bank: CounterBank,
    intents: LoopIntents, virtioHeaderSize: Int, maxDatagramSize: Int, acceptAnySource: Bool,
    ipv6: Bool = false, tunnel: TunnelCodec? = nil, underlayIPv6: Bool = false
  ) {
    self.udp = udp
    self.state = state
    self.offloads = offloads
    self.bank = bank
    self.intents = intents
    self.virtioHeaderSize = virtioHeaderSize
    self.maxDatagramSize = maxDatagramSize
    self.acceptAnySource = acceptAnySource
    self.ipv6 = (ipv6 || underlayIPv6) && tunnel == nil
    self.tunnel = tunnel
    self.underlayIPv6 = underlayIPv6 && tunnel == nil
    // The socket's family, as `MessageHeaders` asked the kernel for it.
    let layout = ReceiveLayout(ipv6: underlayIPv6)
    controlOffset = layout.controlOffset
    payloadOffset = layout.payloadOffset
  }

  /// udp buffer `id` holds a received datagram (layout: `ReceivedDatagram`), or the receive
  /// failed.
  @inline(__always)
  func datagramReceived(_ id: Int, _ result: Int32, _ routes: RouteSnapshot) {
    guard result >= 0 else {
      bank.countReadFailure(result)
      intents.append(.recycleUDP(id))
      return
    }
    let buffer = udp.buffer(id)
    let total = ReceivedDatagram.payloadLength(UnsafeRawPointer(buffer))
    let segment =
      ReceivedDatagram.segmentSize(UnsafeRawPointer(buffer), controlOffset: controlOffset)
      ?? max(total, 1)
    let packets = total == 0 ? 1 : (total &+ segment &- 1) / segment
    bank.add(.udpReceives)
    bank.add(.udpPacketsReceived, UInt64(packets))
    bank.add(.udpBytesReceived, UInt64(total))
    // Posted with MSG_TRUNC: payloadlen is the real length even when it did not fit.
    guard segment <= maxDatagramSize,
      ReceivedDatagram.flags(UnsafeRawPointer(buffer)) & Int32(MSG_TRUNC) == 0
    else { return drop(id, .dropTruncated, packets) }
    let from: UnderlaySender
    if underlayIPv6 {
      guard let name = ReceivedDatagram.source6(UnsafeRawPointer(buffer)) else {
        return drop(id, .dropBadSenderName, packets)
      }
      guard acceptAnySource || routes.ipv6.isKnownUnderlaySource(high: name.high, low: name.low)
      else { return drop(id, .dropUnknownSource, packets) }
      from = UnderlaySender(high: name.high, low: name.low, port: name.port)
    } else {
      guard let name = ReceivedDatagram.source(UnsafeRawPointer(buffer)) else {
        return drop(id, .dropBadSenderName, packets)
      }
      if !acceptAnySource && tunnel == nil {
        guard routes.isKnownSource(address: name.address) else {
          return drop(id, .dropUnknownSource, packets)
        }
      }
      from = UnderlaySender(ipv4: name.address, port: name.port)
    }
    let writes: Int32
    if var train = state.train(for: id) {
      writeTrain(id, buffer, total: total, segment: segment, from, routes.ipv6, &train)
      writes = train.writes
    } else {
      writes = writePlain(id, buffer, total: total, segment: segment, from, routes.ipv6)
    }
    if writes == 0 {
      intents.append(.recycleUDP(id))
    } else {
      state.pendingWrites[id] = writes
    }
  }

  @inline(__always)
  private func drop(_ id: Int, _ reason: Counter, _ packets: Int) {
    bank.add(reason, UInt64(packets))
    intents.append(.recycleUDP(id))
  }

  /// With a virtio header: each packet of the train as [zero header, packet], or merged into
  /// the super-packet being built when it continues one flow.
  @inline(__always)
  private func writeTrain(
    _ id: Int, _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int,
    _ from: UnderlaySender, _ ipv6Routes: IPv6RouteTable,
    _ train: inout TrainWrites
  ) {
    let coalescing = offloads.state.coalescesTCP
    let coalescingUDP = offloads.state.coalescesUDP
    var offset = 0
    repeat {
      let (packet, length, verdict) = trainPacket(
        buffer, total: total, segment: segment, offset: &offset, from, ipv6Routes)
      guard verdict == .forward else {
        countDrop(verdict)
        continue
      }
      if coalescing,
        let candidate = MergeCandidate(
          UnsafeRawPointer(packet), length: length, udp: coalescingUDP)
      {
        coalesce(id, packet, length, candidate, &train)
        continue
      }
      flushCoalesced(id, &train)
      guard roomForWrite(train) else { continue }
      // [zero virtio header, packet]: a plain packet with complete checksums.
      let pair = train.vectors + train.used
      pair[0] = iovec(iov_base: state.zeroHeader, iov_len: virtioHeaderSize)
      pair[1] = iovec(iov_base: packet, iov_len: length)
      intents.append(.writev(pair, count: 2, .tunWrite, id: id))
      train.used &+= 2
      train.writes &+= 1
    } while offset < total
    flushCoalesced(id, &train)
  }

  /// Adds a merge candidate to the super-packet being built, or (when it does not continue
  /// it) flushes that one and starts a new one with it.
  @inline(__always)
  private func coalesce(
    _ id: Int, _ packet: UnsafeMutableRawPointer, _ length: Int, _ candidate: MergeCandidate,
    _ train: inout TrainWrites
  ) {
    if train.used < UDPToTunBuffers.vectorsPerBuffer,
      train.append(UnsafeRawPointer(packet), candidate)
    {
      train.vectors[train.used] = iovec(
        iov_base: packet + candidate.headerLength, iov_len: length &- candidate.headerLength)
      train.used &+= 1
      return
    }
    flushCoalesced(id, &train)
    guard roomForWrite(train) else { return }
    // [header slot, first packet]; finish() fills the slot.
    train.first = train.used
    train.vectors[train.used] = iovec(
      iov_base: train.headerSlots + Int(train.writes) &* UDPToTunBuffers.headerSlotSize,
      iov_len: virtioHeaderSize)
    train.vectors[train.used &+ 1] = iovec(iov_base: packet, iov_len: length)
    train.used &+= 2
    train.start(packet, candidate)
  }

  /// Room in the buffer's iovecs and header slots for one more write of two iovecs; a packet
  /// that finds none is dropped and counted (64 writes per buffer: more than a GRO train holds).
  @inline(__always)
  private func roomForWrite(_ train: TrainWrites) -> Bool {
    guard train.writes < UDPToTunBuffers.writesPerBuffer,
      train.used &+ 2 <= UDPToTunBuffers.vectorsPerBuffer
    else {
      bank.add(.dropTunWriteError)
      return false
    }
    return true
  }

  /// Ends the super-packet being built in `train` (if any) and writes it: one segment goes as
  /// a plain packet, several as one TSO or USO super-packet.
  @inline(__always)
  private func flushCoalesced(_ id: Int, _ train: inout TrainWrites) {
    guard train.building else { return }
    let slot = train.vectors[train.first].iov_base!
    let (segments, udp) = train.finish(virtioHeader: slot)
    let count = train.used &- train.first
    let operation: RingOperation = segments > 1 ? .tunWriteCoalesced : .tunWrite
    intents.append(.writev(train.vectors + train.first, count: count, operation, id: id))
    if segments > 1 {
      bank.add(udp ? .tunCoalescedUDPWrites : .tunCoalescedWrites)
      bank.add(udp ? .tunCoalescedUDPPackets : .tunCoalescedPackets, UInt64(segments))
    }
    train.writes &+= 1
  }

  /// Without a virtio header: one WRITE per packet of the train; returns how many.
  @inline(__always)
  private func writePlain(
    _ id: Int, _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int,
    _ from: UnderlaySender, _ ipv6Routes: IPv6RouteTable
  ) -> Int32 {
    var writes: Int32 = 0
    var offset = 0
    repeat {
      let (packet, length, verdict) = trainPacket(
        buffer, total: total, segment: segment, offset: &offset, from, ipv6Routes)
      guard verdict == .forward else {
        countDrop(verdict)
        continue
      }
      intents.append(.write(packet, length: length, .tunWrite, id: id))
      writes &+= 1
    } while offset < total
    return writes
  }

  /// The packet of a received train at `offset` (which moves to the next one), checked and,
  /// when it may be forwarded, with its TTL decremented. With the tunnel, each datagram is a
  /// WireGuard message: opened first, and `.consumed` when it held no packet for the TUN. On
  /// a dual-stack or IPv6-only network an IPv6 packet is checked, its source must lie in the
  /// IPv6 subnet of the peer that sent it (unless any source is accepted), and its hop limit
  /// decremented; over the IPv6 underlay anything else is dropped.
  @inline(__always)
  func trainPacket(
    _ buffer: UnsafeMutableRawPointer, total: Int, segment: Int, offset: inout Int,
    _ from: UnderlaySender, _ ipv6Routes: IPv6RouteTable
  ) -> (UnsafeMutableRawPointer, Int, PacketVerdict) {
    var length = min(segment, total &- offset)
    var packet = buffer + (payloadOffset &+ offset)
    offset &+= segment
    if let tunnel {
      length = tunnel.open(
        packet, length: length, sourceAddress: from.ipv4, sourcePort: from.port)
      guard length > 0 else { return (packet, 0, .consumed) }
      packet += TransportLayout.headerSize
    }
    if ipv6, length > 0 {
      if packet.load(as: UInt8.self) >> 4 == 6 {
        return (packet, length, ipv6Verdict(packet, length, from, ipv6Routes))
      }
      // Over the IPv6 underlay no peer has an IPv4 subnet to send from.
      if underlayIPv6 { return (packet, length, .notIPv6) }
    }
    var verdict = IPv4Packet.check(UnsafeRawPointer(packet), length: length)
    if verdict == .forward { verdict = IPv4Packet.decrementTTL(packet) }
    return (packet, length, verdict)
  }

  @inline(__always)
  private func ipv6Verdict(
    _ packet: UnsafeMutableRawPointer, _ length: Int, _ sender: UnderlaySender,
    _ table: IPv6RouteTable
  ) -> PacketVerdict {
    let check = IPv6Packet.check(UnsafeRawPointer(packet), length: length)
    guard check == .forward else { return check }
    if !acceptAnySource {
      guard
        table.isSource(
          high: IPv6Packet.sourceHigh(UnsafeRawPointer(packet)),
          low: IPv6Packet.sourceLow(UnsafeRawPointer(packet)), ofHigh: sender.high,
          ofLow: sender.low)
      else { return .wrongSource }
    }
    let verdict = IPv6Packet.decrementHopLimit(packet)
    if verdict == .forward { bank.add(.ipv6PacketsWritten) }
    return verdict
  }

  /// Counts a packet not forwarded (the tunnel counted its own).
  @inline(__always)
  private func countDrop(_ verdict: PacketVerdict) {
    if verdict != .consumed { bank.add(Counter.drop(for: verdict)) }
  }

  /// A TUN write from udp buffer `id` completed (or, `submitted` false, never left: no SQE);
  /// the buffer goes back after its last one.
  @inline(__always)
  func writeCompleted(_ id: Int, _ result: Int32, coalesced: Bool, submitted: Bool = true) {
    if result < 0 {
      bank.add(.dropTunWriteError)
      if coalesced && submitted { _ = offloads.failed(.coalescedWrite, errno: -result, intents) }
    } else {
      bank.add(.tunPacketsWritten)
      bank.add(.tunBytesWritten, UInt64(max(Int(result) &- virtioHeaderSize, 0)))
    }
    state.pendingWrites[id] &-= 1
    if state.pendingWrites[id] == 0 { intents.append(.recycleUDP(id)) }
  }
}

/// Who sent a datagram: its underlay address as 128 bits (an IPv4 one IPv4-mapped, as
/// `UnderlayAddress.mapped`) and its port.
struct UnderlaySender {
  var high: UInt64
  var low: UInt64
  var port: UInt16

  @inline(__always)
  init(high: UInt64, low: UInt64, port: UInt16) {
    self.high = high
    self.low = low
    self.port = port
  }

  @inline(__always)
  init(ipv4 address: UInt32, port: UInt16) {
    self.init(high: 0, low: UnderlayAddress.mappedPrefix | UInt64(address), port: port)
  }

  /// The IPv4 address (the WireGuard step runs over the IPv4 underlay only).
  @inline(__always)
  var ipv4: UInt32 { UInt32(truncatingIfNeeded: low) }
}
