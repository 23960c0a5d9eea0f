/// Pure operations on an IPv6 packet held in caller memory (the udp backend's inner packets on
/// a dual-stack network). Nothing here allocates, throws or retains: the Forwarder calls them
/// once per packet. Addresses are two host-order halves (`high` the first 64 bits).
public enum IPv6Packet {
  public static let headerLength = 40
  public static let nextHeaderOffset = 6
  public static let hopLimitOffset = 7
  public static let protocolICMPv6: UInt8 = 58
  /// Extension headers walked to find the upper-layer header (RFC 8200 §4).
  static let hopByHop: UInt8 = 0
  static let routing: UInt8 = 43
  static let fragment: UInt8 = 44
  static let authentication: UInt8 = 51
  static let destinationOptions: UInt8 = 60
  /// More extension headers than this are refused as malformed: it bounds the walk per
  /// packet (a real packet carries one or two).
  static let maximumExtensionHeaders = 16

  /// Where the extension headers end: the upper-layer protocol, the offset of its header,
  /// and whether the packet is a fragment other than the first (no upper-layer header then).
  public struct UpperLayer: Equatable, Sendable {
    public var protocolNumber: UInt8
    public var offset: Int
    public var laterFragment: Bool
  }

  /// Header sanity: at least 40 bytes, version 6, the payload length within the bytes
  /// received (0 with a hop-by-hop header is a jumbogram: refused), and the extension headers
  /// complete. Returns `.notIPv4` (the drop counter of any other version) for a version other
  /// than 6, `.malformedIPv6` for the rest.
  @inline(__always)
  public static func check(_ packet: UnsafeRawPointer, length: Int) -> PacketVerdict {
    guard length >= headerLength else { return .malformedIPv6 }
    guard packet.load(as: UInt8.self) >> 4 == 6 else { return .notIPv4 }
    let end = headerLength &+ Int(packet.loadBigEndian16(at: 4))
    guard end <= length else { return .malformedIPv6 }
    let next = packet.load(fromByteOffset: nextHeaderOffset, as: UInt8.self)
    if isUpperLayer(next) { return .forward }
    return upperLayer(packet, end: end) == nil ? .malformedIPv6 : .forward
  }

  /// True for a next-header value that ends the walk at once (no extension header).
  @inline(__always)
  static func isUpperLayer(_ next: UInt8) -> Bool {
    next != hopByHop && next != routing && next != fragment && next != authentication
      && next != destinationOptions
  }

  /// Walks the extension headers of a packet whose payload ends at `end`; nil when one runs
  /// past it (truncated) or there are more than `maximumExtensionHeaders`.
  public static func upperLayer(_ packet: UnsafeRawPointer, end: Int) -> UpperLayer? {
    var next = packet.load(fromByteOffset: nextHeaderOffset, as: UInt8.self)
    var offset = headerLength
    var laterFragment = false
    var count = 0
    while !isUpperLayer(next) {
      guard count < maximumExtensionHeaders, offset &+ 8 <= end else { return nil }
      let following = packet.load(fromByteOffset: offset, as: UInt8.self)
      let lengthField = Int(packet.load(fromByteOffset: offset &+ 1, as: UInt8.self))
      switch next {
      case fragment:
        // Fragment offset in the upper 13 bits of bytes 2…3.
        if packet.loadBigEndian16(at: offset &+ 2) & 0xfff8 != 0 { laterFragment = true }
        offset &+= 8
      case authentication:
        offset &+= (lengthField &+ 2) &* 4
      default:
        offset &+= (lengthField &+ 1) &* 8
      }
      guard offset <= end else { return nil }
      next = following
      count &+= 1
      if laterFragment { break }
    }
    return UpperLayer(protocolNumber: next, offset: offset, laterFragment: laterFragment)
  }

  /// Payload length field + 40: where the packet's bytes end.
  @inline(__always)
  public static func end(_ packet: UnsafeRawPointer) -> Int {
    headerLength &+ Int(packet.loadBigEndian16(at: 4))
  }

  @inline(__always)
  public static func sourceHigh(_ packet: UnsafeRawPointer) -> UInt64 {
    packet.loadBigEndian64(at: 8)
  }

  @inline(__always)
  public static func sourceLow(_ packet: UnsafeRawPointer) -> UInt64 {
    packet.loadBigEndian64(at: 16)
  }

  @inline(__always)
  public static func destinationHigh(_ packet: UnsafeRawPointer) -> UInt64 {
    packet.loadBigEndian64(at: 24)
  }

  @inline(__always)
  public static func destinationLow(_ packet: UnsafeRawPointer) -> UInt64 {
    packet.loadBigEndian64(at: 32)
  }

  /// Decrements the hop limit, as a router does (no checksum in the IPv6 header). Returns
  /// `.hopLimitExpired` (and leaves the packet unchanged) when it would reach zero, like the
  /// IPv4 path with the TTL.
  @inline(__always)
  public static func decrementHopLimit(_ packet: UnsafeMutableRawPointer) -> PacketVerdict {
    let hopLimit = packet.load(fromByteOffset: hopLimitOffset, as: UInt8.self)
    guard hopLimit > 1 else { return .hopLimitExpired }
    packet.storeBytes(of: hopLimit &- 1, toByteOffset: hopLimitOffset, as: UInt8.self)
    return .forward
  }

  /// The one's-complement sum (unfolded) of the upper-layer pseudo-header (RFC 8200 §8.1):
  /// both addresses, the upper-layer length and the next-header value.
  @inline(__always)
  public static func pseudoHeaderSum(
    _ packet: UnsafeRawPointer, upperLayerLength: Int, protocolNumber: UInt8
  ) -> UInt32 {
    UInt32(Checksum.sum(packet + 8, length: 32)) &+ UInt32(truncatingIfNeeded: upperLayerLength)
      &+ UInt32(protocolNumber)
  }
}

extension IPv6Packet {
  /// Both packets have the same source and destination (bytes 8–39).
  @inline(__always)
  static func sameAddresses(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> Bool {
    a.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
      == b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
      && a.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        == b.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
      && a.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        == b.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
      && a.loadUnaligned(fromByteOffset: 32, as: UInt64.self)
        == b.loadUnaligned(fromByteOffset: 32, as: UInt64.self)
  }

  /// Turns a coalescer's first packet into the header of a `total`-byte super-packet: the
  /// payload length, and the pseudo-header sum (not inverted) in the L4 checksum field at
  /// `checksumField` — the kernel completes it (virtio NEEDS_CSUM).
  @inline(__always)
  static func rewriteAsSuperPacket(
    _ head: UnsafeMutableRawPointer, total: Int, checksumField: Int
  ) {
    head.storeBigEndian16(UInt16(truncatingIfNeeded: total &- headerLength), at: 4)
    let pseudo = pseudoHeaderSum(
      UnsafeRawPointer(head), upperLayerLength: total &- headerLength,
      protocolNumber: head.load(fromByteOffset: nextHeaderOffset, as: UInt8.self))
    head.storeBigEndian16(Checksum.fold(UInt64(pseudo)), at: checksumField)
  }
}

extension UnsafeRawPointer {
  @inline(__always)
  func loadBigEndian64(at offset: Int) -> UInt64 {
    UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }
}

extension UnsafeMutableRawPointer {
  @inline(__always)
  func storeBigEndian64(_ value: UInt64, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
  }
}
