import CSystemShims

/// The 10-byte `virtio_net_hdr` that prefixes every TUN read and write once the device is
/// opened with IFF_VNET_HDR (fields in host byte order, little-endian here): how the kernel
/// describes a super-packet (TSO/USO) or a packet whose L4 checksum is left to us.
public struct VirtioNetHeader: Equatable, Sendable {
  /// Bytes before the packet; set explicitly with TUNSETVNETHDRSZ.
  public static let size = 10
  /// `flags`: the L4 checksum is partial (pseudo-header sum at csumStart + csumOffset).
  public static let needsChecksum = UInt8(FLANNEL_VIRTIO_NET_HDR_F_NEEDS_CSUM)
  /// `gsoType` values.
  public static let gsoNone = UInt8(FLANNEL_VIRTIO_NET_HDR_GSO_NONE)
  public static let gsoTCPv4 = UInt8(FLANNEL_VIRTIO_NET_HDR_GSO_TCPV4)
  public static let gsoUDP = UInt8(FLANNEL_VIRTIO_NET_HDR_GSO_UDP_L4)
  public static let gsoTCPv6 = UInt8(FLANNEL_VIRTIO_NET_HDR_GSO_TCPV6)
  public static let gsoECN = UInt8(FLANNEL_VIRTIO_NET_HDR_GSO_ECN)

  public var flags: UInt8
  public var gsoType: UInt8
  /// Not trusted (on the forward path it may cover the whole first packet); recomputed.
  public var headerLength: UInt16
  /// Payload bytes per segment.
  public var gsoSize: UInt16
  public var checksumStart: UInt16
  public var checksumOffset: UInt16

  public init(
    flags: UInt8 = 0, gsoType: UInt8 = 0, headerLength: UInt16 = 0, gsoSize: UInt16 = 0,
    checksumStart: UInt16 = 0, checksumOffset: UInt16 = 0
  ) {
    self.flags = flags
    self.gsoType = gsoType
    self.headerLength = headerLength
    self.gsoSize = gsoSize
    self.checksumStart = checksumStart
    self.checksumOffset = checksumOffset
  }

  @inline(__always)
  public init(_ bytes: UnsafeRawPointer) {
    flags = bytes.load(as: UInt8.self)
    gsoType = bytes.load(fromByteOffset: 1, as: UInt8.self)
    headerLength = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    gsoSize = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
    checksumStart = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
    checksumOffset = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
  }

  public func store(_ bytes: UnsafeMutableRawPointer) {
    bytes.storeBytes(of: flags, as: UInt8.self)
    bytes.storeBytes(of: gsoType, toByteOffset: 1, as: UInt8.self)
    bytes.storeBytes(of: headerLength.littleEndian, toByteOffset: 2, as: UInt16.self)
    bytes.storeBytes(of: gsoSize.littleEndian, toByteOffset: 4, as: UInt16.self)
    bytes.storeBytes(of: checksumStart.littleEndian, toByteOffset: 6, as: UInt16.self)
    bytes.storeBytes(of: checksumOffset.littleEndian, toByteOffset: 8, as: UInt16.self)
  }

  /// The header of a plain packet written to the TUN: no GSO, checksums already complete.
  @inline(__always)
  public static func storePlain(_ bytes: UnsafeMutableRawPointer) {
    bytes.initializeMemory(as: UInt8.self, repeating: 0, count: size)
  }
}
