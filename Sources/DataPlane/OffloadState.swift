#if canImport(Glibc)
  import Glibc
#endif

/// Every offload switch of one forwarder, and the one place that decides what a refused
/// offloaded operation means: send again without the offload, turn the offload off (once, with
/// a notice), or count and drop. Forwarder thread only; the forwarder mirrors `active` for
/// other threads whenever `failed(_:errno:)` or `superPacketTooLong` changes it.
struct OffloadState: Equatable {
  /// The offloads on now: the TUN's (as the kernel accepted them) and the socket's.
  private(set) var active: TunOffloads
  /// Packets longer than this go in sends of their own: the kernel refused a GSO send with
  /// segments this long (segment plus headers above the path MTU).
  private(set) var gsoMaxSegmentSize = Int.max

  /// TSO/USO chunks go out as UDP GSO sends: without UDP GSO they stay off.
  init(active: TunOffloads) {
    self.active = active
    if !active.contains(.socketSegmentation) { self.active.subtract(Self.segmentation) }
  }

  /// What to ask of the TUN at start: the configured TUN offloads, without TSO/USO when UDP
  /// GSO sends are off (a split super-packet is sent with UDP GSO; without it the kernel
  /// segments before the TUN, as with the offloads off).
  static func tunOffloadsToAsk(configured: TunOffloads, socketSegmentation: Bool) -> TunOffloads {
    socketSegmentation ? configured : configured.subtracting(segmentation)
  }

  /// tun → udp runs of same-size packets go as one UDP GSO send.
  var groupsSends: Bool { active.contains(.socketSegmentation) }
  /// TSO/USO super-packets read from the TUN are split here.
  var splitsSuperPackets: Bool { !active.isDisjoint(with: Self.segmentation) }
  /// udp → tun: TCP segments of one flow are merged into a TSO super-packet.
  var coalescesTCP: Bool { active.contains(.receiveCoalescing) }
  /// UDP datagrams too, only when the kernel accepted USO: proof that it knows UDP_L4.
  var coalescesUDP: Bool { active.isSuperset(of: [.receiveCoalescing, .udpSegmentation]) }

  /// Whether a run that starts with a packet of `length` bytes may grow into a GSO send.
  @inline(__always)
  func runMayGrow(segmentSize length: Int) -> Bool {
    groupsSends && length <= gsoMaxSegmentSize
  }

  /// An operation that used an offload and completed with an error.
  enum Operation: Equatable {
    /// A SENDMSG of a run of `segments` packets (UDP GSO when more than one) of `segmentSize`.
    case runSend(segments: Int, segmentSize: Int)
    /// A UDP GSO send of a chunk of a split TSO/USO super-packet.
    case splitSend
    /// A TUN write of a coalesced (TSO/USO) super-packet.
    case coalescedWrite
    /// A plain TUN write.
    case write
  }

  /// What the forwarder does with the packets of the failed operation.
  enum Action: Equatable {
    /// Count them as dropped (TCP resends what matters).
    case drop
    /// Send each packet of the run again on its own (a plain send fragments when it must).
    case resendEachPacket
  }

  /// What follows from a failure: the action, the offloads turned off now (empty: none; the
  /// forwarder applies the TUN's with TUNSETOFFLOAD and logs one notice), and whether that
  /// changed the TUN's TUNSETOFFLOAD flags.
  struct Decision: Equatable {
    var action: Action
    var turnedOff: TunOffloads = []
    var tunFlagsChanged: Bool { !turnedOff.isDisjoint(with: OffloadState.segmentation) }
  }

  static let segmentation: TunOffloads = [.tcpSegmentation, .udpSegmentation]

  /// The kernel answered `errno` (positive) to `operation`. EIO from a GSO send: the egress
  /// device cannot segment (no checksum offload), so UDP GSO goes off for good, and with it
  /// TSO/USO (their chunks are GSO sends; the kernel segments before the TUN from then on). EMSGSIZE (EINVAL before Linux 6.x) from a GSO send:
  /// segments above the path MTU — a run's packets that long go alone from now on; a split
  /// chunk means the TUN's MTU is above the path's, so TSO/USO go off and the kernel segments
  /// to the TUN MTU. EINVAL from a coalesced TUN write: the kernel refused the virtio header,
  /// so receive coalescing goes off. Anything else: a plain drop.
  mutating func failed(_ operation: Operation, errno: Int32) -> Decision {
    let refusedGSO = errno == EIO || errno == EMSGSIZE || errno == EINVAL
    switch operation {
    case .runSend(let segments, let segmentSize):
      guard segments > 1, refusedGSO else { return Decision(action: .drop) }
      if errno == EIO {
        let off = turnOff([.socketSegmentation, .tcpSegmentation, .udpSegmentation])
        return Decision(action: .resendEachPacket, turnedOff: off)
      }
      gsoMaxSegmentSize = min(gsoMaxSegmentSize, segmentSize - 1)
      return Decision(action: .resendEachPacket)
    case .splitSend:
      guard refusedGSO else { return Decision(action: .drop) }
      var off = turnOff(Self.segmentation)
      if errno == EIO { off.formUnion(turnOff(.socketSegmentation)) }
      return Decision(action: .drop, turnedOff: off)
    case .coalescedWrite:
      guard errno == EINVAL else { return Decision(action: .drop) }
      return Decision(action: .drop, turnedOff: turnOff(.receiveCoalescing))
    case .write:
      return Decision(action: .drop)
    }
  }

  /// A super-packet whose segments are longer than a GSO send was allowed to carry (the
  /// kernel refused one that long): TSO/USO go off so the kernel segments to the TUN MTU and
  /// the plain path fragments. The super-packet itself is dropped (TCP resends it).
  mutating func superPacketTooLong(segmentLength: Int) -> Decision? {
    guard segmentLength > gsoMaxSegmentSize else { return nil }
    return Decision(action: .drop, turnedOff: turnOff(Self.segmentation))
  }

  /// Turns `offloads` off; returns those that were on.
  private mutating func turnOff(_ offloads: TunOffloads) -> TunOffloads {
    let were = active.intersection(offloads)
    active.subtract(offloads)
    return were
  }

  /// TUNSETOFFLOAD at start: what to ask next after the kernel refused `asked`, dropping USO,
  /// then TSO, then the checksum offload (nil: nothing left to drop, give up asking).
  static func fallback(afterRefusing asked: TunOffloads) -> TunOffloads? {
    for offload: TunOffloads in [.udpSegmentation, .tcpSegmentation, .checksum]
    where asked.contains(offload) {
      return asked.subtracting(offload)
    }
    return nil
  }

  /// One log line per group of offloads that `operation`'s failure with `errno` turned off
  /// (operators' log searches and Scripts/udp-workers-check.sh match these words).
  static func notices(turnedOff: TunOffloads, after operation: Operation, errno: Int32)
    -> [String]
  {
    let what =
      switch operation {
      case .runSend: "UDP GSO send"
      case .splitSend: "GSO send of a split super-packet"
      case .coalescedWrite, .write: "TUN write of a coalesced super-packet"
      }
    var lines: [String] = []
    if !turnedOff.isDisjoint(with: segmentation) {
      lines.append("\(what) refused (errno \(errno)); TUN TSO/USO off")
    }
    if turnedOff.contains(.socketSegmentation) {
      lines.append("\(what) refused (errno \(errno)); one datagram per send from now on")
    }
    if turnedOff.contains(.receiveCoalescing) {
      lines.append("\(what) refused (errno \(errno)); receive GRO off")
    }
    return lines
  }
}
