#if canImport(Glibc)
  import Glibc
#endif

/// tun → udp for IPv6 packets on a dual-stack or IPv6-only network (the udp backend): checked,
/// routed by the leases' IPv6 subnets to the peer's IPv4 PublicIP (dual-stack) or PublicIPv6
/// (IPv6-only: the socket is AF_INET6), the hop limit decremented, and sent
/// like an IPv4 packet (same runs, same UDP GSO; TSO6/USO super-packets split as IPv4 ones);
/// no lease's subnet → an ICMPv6 destination unreachable back into the TUN.
extension TunToUDPPipeline {
  @inline(__always)
  func ipv6PacketRead(
    _ id: Int, _ virtio: VirtioNetHeader, _ packet: UnsafeMutableRawPointer, _ length: Int,
    _ table: IPv6RouteTable, _ tunIPv6: TunIPv6Address
  ) {
    let verdict = IPv6Packet.check(UnsafeRawPointer(packet), length: length)
    guard verdict == .forward else { return drop(id, Counter.drop(for: verdict)) }
    let destinationHigh = IPv6Packet.destinationHigh(UnsafeRawPointer(packet))
    let index = table.index(
      high: destinationHigh, low: IPv6Packet.destinationLow(UnsafeRawPointer(packet)))
    guard index >= 0 else {
      // ff00::/8: the kernel's MLD reports for flannel0's groups, not traffic for a peer.
      if destinationHigh >> 56 == 0xff { return drop(id, .dropIPv6Multicast) }
      bank.add(.dropIPv6NoRoute)
      replyNoRouteIPv6(id, packet, length, tunIPv6)
      return
    }
    guard IPv6Packet.decrementHopLimit(packet) == .forward else { return drop(id, .dropHopLimit) }
    bank.add(.ipv6PacketsSent)
    if virtio.gsoType != VirtioNetHeader.gsoNone {
      // TSO6 / USO: cut here (SuperPacket.split), as an IPv4 super-packet.
      superPacketRead(
        id, virtio, packet, length, table.nextHop(at: index).pointee.address,
        routeIndex: -1)
      return
    }
    enqueue(id, length: length, table.nextHop(at: index))
  }

  /// No lease's IPv6 subnet: an ICMPv6 destination unreachable (no route) back into the TUN,
  /// built in the buffer's scratch space as the IPv4 reply is.
  @inline(__always)
  private func replyNoRouteIPv6(
    _ id: Int, _ packet: UnsafeMutableRawPointer, _ length: Int, _ tunIPv6: TunIPv6Address
  ) {
    let scratch = tun.scratch(id)
    if virtioHeaderSize > 0 { VirtioNetHeader.storePlain(scratch) }
    let reply = NoRouteICMPv6.build(
      offender: UnsafeRawPointer(packet), length: length, tunHigh: tunIPv6.high,
      tunLow: tunIPv6.low, into: scratch + virtioHeaderSize,
      capacity: TunQueue.scratchSize - virtioHeaderSize)
    guard reply > 0 else {
      intents.append(.recycleTun(id))
      return
    }
    intents.append(.write(scratch, length: reply &+ virtioHeaderSize, .icmpv6Write, id: id))
  }
}
