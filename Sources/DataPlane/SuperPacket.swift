#if canImport(Glibc)
  import Glibc
#endif

/// Pure operations on what a TUN with offloads hands over (no I/O; the Forwarder calls them):
/// finishing a partial L4 checksum, and cutting a TSO/USO super-packet into the MTU-sized
/// IPv4 or IPv6 packets the kernel would have produced, each a complete packet that needs nothing
/// from the receiver (stock flanneld peers see ordinary packets).
public enum SuperPacket {
  /// Segments per super-packet we accept: UDP_MAX_SEGMENTS on 2024+ kernels (64 before).
  public static let maxSegments = 128
  /// Largest IP header (IPv6's 40 bytes) with a TCP header of 60 bytes: room per segment
  /// beyond its payload.
  public static let maxHeaderLength = 40 + 60

  public enum Refusal: Error, Equatable, Sendable {
    /// Neither IPv4 nor IPv6, or IPv4 with options (IHL > 5) or a fragment, or IPv6 with
    /// extension headers.
    case notPlainIPv4
    /// Total (IPv6: payload) length disagrees with the bytes read, or the IPv4 header
    /// checksum is wrong.
    case badIPv4Header
    /// gso type is not TCPv4 / TCPv6 / UDP, or the protocol does not match it.
    case unsupportedType
    /// csum_start / csum_offset do not point at the L4 checksum field.
    case badChecksumLocation
    /// TCP data offset below 5 or beyond the packet.
    case badL4Header
    /// gso_size 0, no payload, more than `maxSegments` segments or no room for them.
    case badSegmentation
  }

  /// What `split` produced: `count` packets back to back in the output, each `segmentLength`
  /// bytes except the last (which may be shorter); `bytes` in all.
  public struct Segments: Equatable, Sendable {
    public var count: Int
    public var segmentLength: Int
    public var bytes: Int
  }

  /// Finishes the L4 checksum of a non-GSO packet marked NEEDS_CSUM: the field at
  /// csum_start + csum_offset holds the pseudo-header sum; the checksum is the complement of
  /// the sum over everything from csum_start. False (packet untouched) when the location
  /// does not fit the packet.
  @inline(__always)
  public static func completeChecksum(
    _ header: VirtioNetHeader, packet: UnsafeMutableRawPointer, length: Int
  ) -> Bool {
    let start = Int(header.checksumStart)
    let field = start &+ Int(header.checksumOffset)
    guard start >= IPv4Packet.minimumHeaderLength, field &+ 2 <= length else { return false }
    var checksum = ~Checksum.sum(UnsafeRawPointer(packet + start), length: length &- start)
    // UDP sends "no checksum" as 0; a computed 0 goes out as 0xffff (RFC 768).
    if checksum == 0 && header.checksumOffset == 6 { checksum = 0xffff }
    packet.storeBigEndian16(checksum, at: field)
    return true
  }

  /// Cuts the super-packet into packets of at most `gsoSize` payload bytes, written back to
  /// back into `output`: per packet the IPv4 header with ID + i, its total length and a new
  /// header checksum (IPv6: the header with its payload length); TCP: sequence + i·gsoSize, FIN and PSH only on the last, CWR only on
  /// the first; UDP: its length; a full L4 checksum. The kernel's hdr_len is ignored.
  ///
  /// With `gather`, payloads are not copied: `output` receives only the packets' headers
  /// (`count` × header length, back to back) and `gather` 2 × `count` iovecs, [header i,
  /// payload i inside `packet`], which a sendmsg sends as the same bytes (the packet must
  /// stay untouched until then). `Segments.bytes` is the packets' length either way.
  public static func split(
    _ header: VirtioNetHeader, packet: UnsafeRawPointer, length: Int,
    into output: UnsafeMutableRawPointer, capacity: Int,
    gather: UnsafeMutablePointer<iovec>? = nil
  ) -> Result<Segments, Refusal> {
    let layout: Layout
    switch Layout.of(header, packet: packet, length: length) {
    case .success(let accepted): layout = accepted
    case .failure(let refusal): return .failure(refusal)
    }
    let bytes = layout.count &* layout.headerLength &+ layout.payload
    let needed = gather == nil ? bytes : layout.count &* layout.headerLength
    guard needed <= capacity else { return .failure(.badSegmentation) }
    let fixed = FixedSums(packet, isTCP: layout.isTCP, ipHeaderLength: layout.ipHeaderLength)
    var out = output
    for i in 0..<layout.count {
      out += writeSegment(i, of: packet, layout, fixed, to: out, gather: gather)
    }
    return .success(
      Segments(
        count: layout.count,
        segmentLength: layout.headerLength &+ min(layout.gsoSize, layout.payload), bytes: bytes))
  }

  /// An accepted super-packet: a plain IPv4 header (no options, not a fragment, total length
  /// and checksum right) or an IPv6 header without extension headers (payload length right),
  /// TCP or UDP as the gso type says, the checksum location where that protocol keeps it, and
  /// `count` ≤ `maxSegments` segments of `gsoSize` payload bytes.
  struct Layout {
    var isTCP: Bool
    /// 20 (IPv4) or 40 (IPv6).
    var ipHeaderLength: Int
    /// TCP (with options) or UDP header bytes, and with the IPv4 header.
    var l4Length: Int
    var headerLength: Int
    var payload: Int
    var gsoSize: Int
    var count: Int

    @inline(__always)
    static func of(_ header: VirtioNetHeader, packet: UnsafeRawPointer, length: Int) -> Result<
      Layout, Refusal
    > {
      guard length >= 28 else { return .failure(.notPlainIPv4) }
      let first = packet.load(as: UInt8.self)
      let ip: Int
      let proto: UInt8
      let tcpType: UInt8
      if first >> 4 == 6 {
        guard length >= 48 else { return .failure(.notPlainIPv4) }
        proto = packet.load(fromByteOffset: IPv6Packet.nextHeaderOffset, as: UInt8.self)
        // Extension headers would have to be repeated in every segment: refused (the
        // kernel's own TCP and UDP sockets send none).
        guard proto == IPv4Packet.protocolTCP || proto == IPv4Packet.protocolUDP else {
          return .failure(.notPlainIPv4)
        }
        guard IPv6Packet.end(packet) == length else { return .failure(.badIPv4Header) }
        ip = IPv6Packet.headerLength
        tcpType = VirtioNetHeader.gsoTCPv6
      } else {
        guard first == 0x45, packet.loadBigEndian16(at: 6) & 0x3fff == 0 else {
          return .failure(.notPlainIPv4)
        }
        guard Int(packet.loadBigEndian16(at: 2)) == length,
          IPv4Packet.headerChecksumIsValid(packet)
        else { return .failure(.badIPv4Header) }
        proto = packet.load(fromByteOffset: IPv4Packet.protocolOffset, as: UInt8.self)
        ip = 20
        tcpType = VirtioNetHeader.gsoTCPv4
      }
      let isTCP: Bool
      switch header.gsoType & ~VirtioNetHeader.gsoECN {
      case tcpType where proto == IPv4Packet.protocolTCP: isTCP = true
      case VirtioNetHeader.gsoUDP where proto == IPv4Packet.protocolUDP: isTCP = false
      default: return .failure(.unsupportedType)
      }
      guard Int(header.checksumStart) == ip, header.checksumOffset == (isTCP ? 16 : 6) else {
        return .failure(.badChecksumLocation)
      }
      let l4Length: Int
      if isTCP {
        // The data offset is byte 12 of TCP: a shorter packet has no room for a TCP header.
        guard length >= ip &+ 20 else { return .failure(.badL4Header) }
        l4Length = Int(packet.load(fromByteOffset: ip &+ 12, as: UInt8.self) >> 4) &* 4
        guard l4Length >= 20, ip &+ l4Length <= length else { return .failure(.badL4Header) }
      } else {
        l4Length = 8  // its length field is rewritten per segment, whatever it says now
      }
      let headerLength = ip &+ l4Length
      let payload = length &- headerLength
      let gsoSize = Int(header.gsoSize)
      guard gsoSize > 0, payload > 0 else { return .failure(.badSegmentation) }
      let count = (payload &+ gsoSize &- 1) / gsoSize
      guard count <= maxSegments else { return .failure(.badSegmentation) }
      return .success(
        Layout(
          isTCP: isTCP, ipHeaderLength: ip, l4Length: l4Length, headerLength: headerLength,
          payload: payload, gsoSize: gsoSize, count: count))
    }
  }

  /// What stays the same from segment to segment: the first IP ID and TCP sequence number,
  /// the TCP flags, the pseudo-header words (addresses and protocol) and the IPv4 header words
  /// other than total length, ID and checksum — so each segment's header checksum is two
  /// additions and a fold. IPv6: no ID and no header checksum; the pseudo-header has the
  /// 128-bit addresses.
  struct FixedSums {
    var firstID: UInt16
    var firstSequence: UInt32
    var tcpFlags: UInt8
    var pseudo: UInt32
    var ipFixed: UInt64

    @inline(__always)
    init(_ packet: UnsafeRawPointer, isTCP: Bool, ipHeaderLength ip: Int) {
      // Only TCP has them (its packets are ≥ 40 bytes; a UDP one may end before byte 33).
      firstSequence = isTCP ? packet.loadBigEndian32(at: ip &+ 4) : 0
      tcpFlags = isTCP ? packet.load(fromByteOffset: ip &+ 13, as: UInt8.self) : 0
      ipFixed = 0
      if ip == IPv6Packet.headerLength {
        firstID = 0
        pseudo = IPv6Packet.pseudoHeaderSum(
          packet, upperLayerLength: 0,
          protocolNumber: packet.load(fromByteOffset: IPv6Packet.nextHeaderOffset, as: UInt8.self))
        return
      }
      firstID = packet.loadBigEndian16(at: 4)
      pseudo = IPv4Packet.pseudoHeaderSum(packet, l4Length: 0)
      for offset in stride(from: 0, to: 20, by: 2)
      where offset != 2 && offset != 4 && offset != 10 {
        ipFixed &+= UInt64(packet.loadBigEndian16(at: offset))
      }
    }
  }

  /// Writes segment `i`'s headers (and, without `gather`, its payload) at `out`; returns the
  /// bytes written there.
  @inline(__always)
  static func writeSegment(
    _ i: Int, of packet: UnsafeRawPointer, _ layout: Layout, _ fixed: FixedSums,
    to out: UnsafeMutableRawPointer, gather: UnsafeMutablePointer<iovec>?
  ) -> Int {
    let headerLength = layout.headerLength
    let offset = i &* layout.gsoSize
    let size = min(layout.gsoSize, layout.payload &- offset)
    let source = packet + (headerLength &+ offset)
    out.copyMemory(from: packet, byteCount: headerLength)
    if let gather {
      gather[2 &* i] = iovec(iov_base: out, iov_len: headerLength)
      gather[2 &* i &+ 1] = iovec(
        iov_base: UnsafeMutableRawPointer(mutating: source), iov_len: size)
    } else {
      (out + headerLength).copyMemory(from: source, byteCount: size)
    }
    let total = headerLength &+ size
    let ip = layout.ipHeaderLength
    if ip == 20 {
      out.storeBigEndian16(UInt16(truncatingIfNeeded: total), at: 2)
      let id = fixed.firstID &+ UInt16(truncatingIfNeeded: i)
      out.storeBigEndian16(id, at: 4)
      out.storeBigEndian16(~Checksum.fold(fixed.ipFixed &+ UInt64(total) &+ UInt64(id)), at: 10)
    } else {
      out.storeBigEndian16(UInt16(truncatingIfNeeded: total &- ip), at: 4)
    }
    let l4 = out + ip
    let l4Total = total &- ip
    if layout.isTCP {
      l4.storeBigEndian32(fixed.firstSequence &+ UInt32(truncatingIfNeeded: offset), at: 4)
      var flags = fixed.tcpFlags
      if i != layout.count &- 1 { flags &= ~0x09 }  // FIN, PSH only on the last
      if i > 0 { flags &= ~0x80 }  // CWR only on the first
      l4.storeBytes(of: flags, toByteOffset: 13, as: UInt8.self)
      l4.storeBigEndian16(0, at: 16)
    } else {
      l4.storeBigEndian16(UInt16(truncatingIfNeeded: l4Total), at: 4)
      l4.storeBigEndian16(0, at: 6)
    }
    // Header and payload summed apart (the header's length is even): the payload is read
    // where it lies, whether or not it was copied.
    let headerSum = Checksum.sum(
      UnsafeRawPointer(l4), length: layout.l4Length, initial: fixed.pseudo &+ UInt32(l4Total))
    var checksum = ~Checksum.sum(source, length: size, initial: UInt32(headerSum))
    if !layout.isTCP && checksum == 0 { checksum = 0xffff }
    l4.storeBigEndian16(checksum, at: layout.isTCP ? 16 : 6)
    return gather == nil ? total : headerLength
  }
}
