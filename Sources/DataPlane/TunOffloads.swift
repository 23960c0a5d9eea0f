import CSystemShims

/// Which offloads the forwarder uses (`-udp-offloads=` / FLANNELD_UDP_OFFLOADS): the TUN's
/// (asked of the kernel with TUNSETOFFLOAD, or, for receive coalescing, needing only the
/// virtio header) and the UDP socket's (GSO sends, GRO receives). Each one falls back on its own, with one notice, when the kernel
/// refuses it (TUNSETOFFLOAD answers EINVAL, or a GSO send of a split super-packet fails).
public struct TunOffloads: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// TUN_F_CSUM: packets may arrive with a partial L4 checksum, finished here.
  public static let checksum = TunOffloads(rawValue: 1)
  /// TUN_F_TSO4|TSO6: TCP super-packets up to 64 KiB, split here (implies checksum).
  public static let tcpSegmentation = TunOffloads(rawValue: 2)
  /// TUN_F_USO4|USO6 (Linux 6.2+): UDP super-packets, split here (implies checksum).
  public static let udpSegmentation = TunOffloads(rawValue: 4)
  /// Receive side (no kernel flag, only the virtio header): consecutive TCP segments of one
  /// flow in a UDP GRO train are merged and written into the TUN as one super-packet; UDP
  /// datagrams too when the kernel accepted USO (proof that it knows UDP_L4).
  public static let receiveCoalescing = TunOffloads(rawValue: 8)
  /// The socket's side (no TUN needed): runs of same-size packets to one peer go as one send
  /// with UDP_SEGMENT (GSO), and the socket delivers trains of datagrams (UDP_GRO).
  public static let socketSegmentation = TunOffloads(rawValue: 16)
  public static let socketReceiveOffload = TunOffloads(rawValue: 32)
  public static let all: TunOffloads = [
    .checksum, .tcpSegmentation, .udpSegmentation, .receiveCoalescing, .socketSegmentation,
    .socketReceiveOffload,
  ]
  /// The ones that need the TUN opened with a virtio header.
  public static let tunSide: TunOffloads = [
    .checksum, .tcpSegmentation, .udpSegmentation, .receiveCoalescing,
  ]

  /// Each single offload with its `-udp-offloads` word, in the order the flag's help lists
  /// them (for /metrics labels and `description`).
  public static let named: [(word: String, offload: TunOffloads)] = [
    ("csum", .checksum), ("tso", .tcpSegmentation), ("uso", .udpSegmentation),
    ("gro", .receiveCoalescing), ("udp-gso", .socketSegmentation),
    ("udp-gro", .socketReceiveOffload),
  ]

  /// Words `init(list:)` understands, for error messages.
  public static let words = "csum, tso, uso, gro, udp-gso, udp-gro, or all / none"

  /// Parses a comma-separated list of `csum`, `tso`, `uso`, `gro`, `udp-gso`, `udp-gro`, or
  /// `all` / `none` / empty.
  /// Nil for an unknown word.
  public init?(list: String) {
    var result: TunOffloads = []
    for word in list.split(separator: ",") {
      switch word.trimmingWhitespace() {
      case "csum": result.insert(.checksum)
      case "tso": result.insert(.tcpSegmentation)
      case "uso": result.insert(.udpSegmentation)
      case "gro": result.insert(.receiveCoalescing)
      case "udp-gso": result.insert(.socketSegmentation)
      case "udp-gro": result.insert(.socketReceiveOffload)
      case "all": result.formUnion(.all)
      case "none", "": break
      default: return nil
      }
    }
    if !result.isDisjoint(with: [.tcpSegmentation, .udpSegmentation]) {
      result.insert(.checksum)
    }
    self = result
  }

  /// The TUNSETOFFLOAD bits.
  var kernelFlags: UInt32 {
    var flags: UInt32 = 0
    if contains(.checksum) { flags |= flannel_TUN_F_CSUM }
    if contains(.tcpSegmentation) { flags |= flannel_TUN_F_TSO4 | flannel_TUN_F_TSO6 }
    if contains(.udpSegmentation) { flags |= flannel_TUN_F_USO4 | flannel_TUN_F_USO6 }
    return flags
  }

  /// The list form, e.g. "csum,tso".
  public var description: String {
    let words = Self.named.filter { contains($0.offload) }.map(\.word)
    return words.isEmpty ? "none" : words.joined(separator: ",")
  }
}

extension Substring {
  fileprivate func trimmingWhitespace() -> Substring {
    var s = self
    while let c = s.first, c == " " { s.removeFirst() }
    while let c = s.last, c == " " { s.removeLast() }
    return s
  }
}
