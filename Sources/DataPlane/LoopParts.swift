/// What the forwarding loop drives, created on the forwarder thread (the buffer rings are
/// registered with its ring, which binds to that thread) and freed when the loop ends, after
/// every request in flight has completed: the TUN queue and the UDP port (descriptors, buffer
/// rings, the requests on them), and a pipeline per direction that decides, as intents, what
/// the ring does with each completion.
final class LoopParts {
  /// Room for the largest IPv4 packet (a TSO/USO super-packet) per buffer.
  static let packetSize = 65536

  let submitter: RingSubmitter
  let tun: TunQueue
  let udp: UDPPort
  let tunToUDP: TunToUDPPipeline
  let udpToTun: UDPToTunPipeline
  /// The WireGuard step both pipelines share, when the forwarder has one.
  let tunnel: TunnelCodec?
  /// Filled by the pipelines, emptied by `Forwarder.submit` after every completion.
  let intents: LoopIntents
  /// 8-byte target of the eventfd READ that wakes the loop to stop.
  let wakeBuffer: UnsafeMutablePointer<UInt64>

  init(
    submitter: RingSubmitter, tun: TunQueue, udp: UDPPort, tunToUDP: TunToUDPPipeline,
    udpToTun: UDPToTunPipeline, intents: LoopIntents, tunnel: TunnelCodec?
  ) {
    self.submitter = submitter
    self.tun = tun
    self.udp = udp
    self.tunToUDP = tunToUDP
    self.udpToTun = udpToTun
    self.tunnel = tunnel
    self.intents = intents
    wakeBuffer = .allocate(capacity: 1)
    wakeBuffer.initialize(to: 0)
  }

  deinit { wakeBuffer.deallocate() }
}
