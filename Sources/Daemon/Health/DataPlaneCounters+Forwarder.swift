import DataPlane

extension DataPlaneCounters {
  /// What /metrics shows of the udp backend: the forwarders' counters (worker 0 first) summed,
  /// per worker, and the offloads worker 0 has on now.
  public init(udpWorkers: [ForwarderCounters], offloads: TunOffloads) {
    self.init()
    let c = ForwarderCounters.sum(udpWorkers)
    packetsSent = c.udpPacketsSent
    bytesSent = c.udpBytesSent
    packetsReceived = c.innerPacketsWritten
    bytesReceived = c.tunBytesWritten
    drops = [
      "no_route": c.dropNoRoute, "ttl": c.dropTTL, "short": c.dropShort,
      "not_ipv4": c.dropNotIPv4, "bad_header": c.dropBadHeader,
      "unknown_source": c.dropUnknownSource, "truncated": c.dropTruncated,
      "send_error": c.dropSendError, "tun_write_error": c.dropTunWriteError,
      "offload": c.dropOffload,
    ]
    ioUringEnters = c.submissions
    workers = udpWorkers.map {
      Worker(
        packetsSent: $0.udpPacketsSent, packetsReceived: $0.innerPacketsWritten,
        ioUringEnters: $0.submissions)
    }
    offloadPackets = [
      .superPacketsRead: c.tunSuperPackets, .superPacketSegmentsSent: c.tunSplitPackets,
      .udpSends: c.udpSends, .udpReceives: c.udpReceives,
      .coalescedTCPWrites: c.tunCoalescedWrites, .coalescedTCPPackets: c.tunCoalescedPackets,
      .coalescedUDPWrites: c.tunCoalescedUDPWrites,
      .coalescedUDPPackets: c.tunCoalescedUDPPackets,
    ]
    activeOffloads = Dictionary(
      uniqueKeysWithValues: TunOffloads.named.map { ($0.word, offloads.contains($0.offload)) })
    offloadsDisabled = c.offloadsDisabled
  }
}
