/// How a Forwarder runs. Addresses are host byte order.
public struct ForwarderConfiguration: Sendable {
  /// Source of the ICMP net-unreachable replies: the lease's network address (e.g. 10.1.15.0),
  /// what stock flanneld passes to its proxy as tun_ip.
  public var tunAddress: UInt32
  /// Stock flanneld injects any datagram that reaches its port. By default this forwarder
  /// accepts only datagrams from a route's next hop (a known lease's PublicIP and port).
  public var acceptAnySource: Bool
  /// The TUN MTU (ext MTU − 28). Informative today: every buffer holds 64 KiB so that TUN
  /// offloads (super-packets) fit later.
  public var mtu: Int
  /// Datagrams longer than this are dropped and counted as truncated (never written in part,
  /// unlike stock flanneld, which truncates to its MTU-sized buffer).
  public var maxDatagramSize: Int
  /// READs kept posted on the TUN. Few on purpose: every posted read is woken per packet
  /// (perf-notes §2.1; 8 ≈ 64 in throughput, more costs EAGAIN churn).
  public var tunReadDepth: Int
  /// RECVMSGs kept posted on the socket.
  public var udpReceiveDepth: Int
  /// Buffers for each direction; buffers beyond the posted depth carry packets whose send or
  /// write has not completed yet, so reading continues meanwhile.
  public var tunBufferCount: Int
  public var udpBufferCount: Int

  public init(
    tunAddress: UInt32, acceptAnySource: Bool = false, mtu: Int = 1472,
    maxDatagramSize: Int = 65535, tunReadDepth: Int = 8, udpReceiveDepth: Int = 16,
    tunBufferCount: Int = 32, udpBufferCount: Int = 64
  ) {
    self.tunAddress = tunAddress
    self.acceptAnySource = acceptAnySource
    self.mtu = mtu
    self.maxDatagramSize = maxDatagramSize
    self.tunReadDepth = tunReadDepth
    self.udpReceiveDepth = udpReceiveDepth
    self.tunBufferCount = max(tunBufferCount, tunReadDepth, 1)
    self.udpBufferCount = max(udpBufferCount, udpReceiveDepth, 1)
  }
}
