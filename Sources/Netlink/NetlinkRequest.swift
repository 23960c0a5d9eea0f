import CLibMnl
import FlannelCore

/// A netlink request under construction, built with libmnl into memory it owns: the
/// nlmsghdr, one family header and attributes. Used by one operation, then dropped.
final class NetlinkRequest {
  /// Enough for a link with nested vxlan attributes.
  static let capacity = 8192
  /// Enough for one route, neighbour or FDB entry (≤ 64 bytes): a batch of thousands of them
  /// builds each in this much and copies it on.
  static let entryCapacity = 256
  private let buffer: UnsafeMutableRawPointer
  let header: UnsafeMutablePointer<nlmsghdr>

  /// `type` is an RTM_* value; NLM_F_REQUEST is always set, NLM_F_ACK is added by the
  /// socket for requests that do not dump.
  init(type: Int, flags: Int32, capacity: Int = NetlinkRequest.capacity) {
    buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
    header = mnl_nlmsg_put_header(buffer)
    header.pointee.nlmsg_type = UInt16(type)
    header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | flags)
  }

  deinit { buffer.deallocate() }

  var isDump: Bool { header.pointee.nlmsg_flags & UInt16(NLM_F_DUMP) == UInt16(NLM_F_DUMP) }

  /// Appends the zeroed family header `T` and lets the caller fill it in.
  func putFamilyHeader<T>(_: T.Type, _ fill: (inout T) -> Void) {
    let raw = mnl_nlmsg_put_extra_header(header, MemoryLayout<T>.size)!
    fill(&raw.assumingMemoryBound(to: T.self).pointee)
  }

  func put(_ type: UInt16, u8 value: UInt8) { mnl_attr_put_u8(header, type, value) }
  func put(_ type: UInt16, u16 value: UInt16) { mnl_attr_put_u16(header, type, value) }
  func put(_ type: UInt16, u32 value: UInt32) { mnl_attr_put_u32(header, type, value) }
  func put(_ type: UInt16, string value: String) { mnl_attr_put_strz(header, type, value) }
  func putFlag(_ type: UInt16) { mnl_attr_put(header, type, 0, nil) }

  func put(_ type: UInt16, bytes: [UInt8]) {
    bytes.withUnsafeBytes { mnl_attr_put(header, type, $0.count, $0.baseAddress) }
  }

  /// Network byte order, as every IP attribute is.
  func put(_ type: UInt16, ipv4: IPv4Address) {
    let v = ipv4.value
    put(
      type, bytes: [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)])
  }

  func put(_ type: UInt16, mac: MACAddress) { put(type, bytes: mac.bytes) }

  func put(_ type: UInt16, u16BigEndian value: UInt16) {
    put(type, bytes: [UInt8(value >> 8), UInt8(value & 0xff)])
  }

  func nest(_ type: UInt16, _ body: () -> Void) {
    let start = mnl_attr_nest_start(header, type)
    body()
    mnl_attr_nest_end(header, start)
  }
}
