/// How a Forwarder runs. Addresses are host byte order.
public struct ForwarderConfiguration: Sendable {
  /// Source of the ICMP net-unreachable replies: the lease's network address (e.g. 10.1.15.0),
  /// what stock flanneld passes to its proxy as tun_ip.
  public var tunAddress: UInt32
  /// On a dual-stack network (the udp backend): flannel0's IPv6 address, the source of the
  /// ICMPv6 destination-unreachable replies. nil: IPv6 inner packets are dropped as
  /// `drop_not_ipv4`, as on an IPv4 network (the wireguard backend always).
  public var tunIPv6Address: TunIPv6Address?
  /// Stock flanneld injects any datagram that reaches its port. By default this forwarder
  /// accepts only datagrams from a route's next hop address (a known lease's PublicIP, any
  /// source port: a peer with several workers sends from several).
  public var acceptAnySource: Bool
  /// Datagrams longer than this are dropped and counted as truncated (never written in part,
  /// unlike stock flanneld, which truncates to its MTU-sized buffer).
  public var maxDatagramSize: Int
  /// Read the TUN with one multishot READ (kernel 6.7+, probed at start) instead of posted
  /// one-shot READs. A kill switch; the forwarder falls back on its own when unsupported.
  public var multishotTunRead: Bool
  /// One-shot READs kept posted on the TUN when multishot is off. Few on purpose: every posted
  /// read is woken per packet, and a read that loses that race 128 times in a row is handed
  /// to an `iou-wrk` thread by the kernel (perf-notes §2.1).
  public var tunReadDepth: Int
  /// Send runs of same-size packets to the same peer as one SENDMSG with UDP GSO
  /// (`UDP_SEGMENT`); the datagrams on the wire are the same. A kill switch; turned off on its
  /// own when the kernel answers EIO (no checksum offload on the egress device).
  public var udpSegmentation: Bool
  /// Ask the socket for UDP GRO: a train of equal-size datagrams from one peer arrives as one
  /// buffer and is split into its packets here. A kill switch.
  public var udpReceiveOffload: Bool
  /// Provided buffers for each direction (rounded up to a power of two). tun → udp buffers
  /// stay taken until their send completes, udp → tun buffers until their TUN write does;
  /// when the kernel finds none free, the multishot request ends and is re-armed once
  /// buffers come back (the packets wait in the TUN queue / socket buffer meanwhile).
  /// 64 each: the ring hands buffers out in turn, so every one of them is written in turn;
  /// with fewer, more of them are still cached when they come round again (the kernel's
  /// copies into them cost 15 % less than with 256 in `Scripts/profile-udp.sh`), and a
  /// forwarder keeps 8 MiB instead of 32. The price: under a 64-byte flood (one buffer per
  /// packet read) the multishot read runs out and is re-armed more often (≈ 35 % fewer
  /// packets per io_uring_enter), with the delivered rate unchanged within noise.
  public var tunBufferCount: Int
  public var udpBufferCount: Int
  /// TUN offloads to ask for; needs a TUN opened with `virtioHeader` (ignored otherwise).
  /// Off by default.
  public var tunOffloads: TunOffloads = []
  /// Longest poll of the ring before sleeping, after a batch that moved packets (µs; 0 = never
  /// poll): see `PollWindow`.
  public var pollMicroseconds: Int = 0
  /// WireGuard between the TUN and the socket (the wireguard backend); nil: plain udp.
  public var tunnel: TunnelSettings?

  public init(
    tunAddress: UInt32, acceptAnySource: Bool = false,
    maxDatagramSize: Int = 65535, multishotTunRead: Bool = true, tunReadDepth: Int = 1,
    udpSegmentation: Bool = true, udpReceiveOffload: Bool = true,
    tunBufferCount: Int = 64, udpBufferCount: Int = 64
  ) {
    self.tunAddress = tunAddress
    self.acceptAnySource = acceptAnySource
    self.maxDatagramSize = maxDatagramSize
    self.multishotTunRead = multishotTunRead
    self.tunReadDepth = max(tunReadDepth, 1)
    self.udpSegmentation = udpSegmentation
    self.udpReceiveOffload = udpReceiveOffload
    self.tunBufferCount = Self.powerOfTwo(max(tunBufferCount, self.tunReadDepth), limit: 32768)
    self.udpBufferCount = Self.powerOfTwo(udpBufferCount, limit: 32768)
  }

  /// The smallest power of two ≥ `n` (at least 1, at most `limit`).
  static func powerOfTwo(_ n: Int, limit: Int) -> Int {
    var p = 1
    while p < n && p < limit { p <<= 1 }
    return p
  }
}

/// An IPv6 address as two host-order halves (DataPlane does not know FlannelCore's types).
public struct TunIPv6Address: Sendable, Equatable {
  public var high: UInt64
  public var low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }
}

/// What a forwarder needs to be a WireGuard data path: the tunnel MTU (plaintexts are padded
/// up to it) and where handshake messages and wake-ups go. The sessions come later, as
/// `TunnelSnapshot`s (`Forwarder.update(tunnel:)`).
public struct TunnelSettings: Sendable {
  public var mtu: Int
  public var inbox: HandshakeInbox
  /// This forwarder's place in its socket group and the group's size: a session's messages
  /// are opened only by the worker its local index steers to
  /// (`ReusePortSteering.worker(forReceiverIndex:groupSize:)`), the one writer of its replay
  /// window.
  public var worker = 0
  public var workers = 1

  public init(mtu: Int, inbox: HandshakeInbox) {
    self.mtu = mtu
    self.inbox = inbox
  }
}
