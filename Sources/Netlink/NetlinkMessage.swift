import CLibMnl

/// One received netlink message, copied out of the receive buffer: its type and the family
/// header (ifinfomsg, rtmsg, …) plus attributes that follow the 16-byte nlmsghdr.
struct NetlinkMessage {
  let bytes: [UInt8]

  var type: UInt16 { UInt16(bytes[4]) | UInt16(bytes[5]) << 8 }

  /// The family header `T` right after nlmsghdr.
  func header<T>(_: T.Type) -> T {
    bytes.withUnsafeBytes {
      $0.loadUnaligned(fromByteOffset: MemoryLayout<nlmsghdr>.size, as: T.self)
    }
  }

  /// The attributes after a family header of `T`'s size (aligned to 4, as NLMSG_ALIGN).
  func attributes<T>(after _: T.Type) -> NetlinkAttributes {
    let start = MemoryLayout<nlmsghdr>.size + (MemoryLayout<T>.size + 3) & ~3
    return NetlinkAttributes(bytes[min(start, bytes.count)...])
  }
}
