import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

/// An IP address as netlink carries it (IPv4 or IPv6, network byte order): what lets one
/// neighbour, FDB or route call serve both families instead of a twin per family.
public protocol NetlinkAddress: Sendable, Hashable, CustomStringConvertible {
  /// AF_INET or AF_INET6.
  static var addressFamily: Int32 { get }
  /// nil when `bytes` has the other family's length.
  init?(netlinkBytes bytes: ArraySlice<UInt8>)
  var netlinkBytes: [UInt8] { get }
}

extension IPv4Address: NetlinkAddress {
  public static var addressFamily: Int32 { AF_INET }

  public init?(netlinkBytes bytes: ArraySlice<UInt8>) {
    guard bytes.count == 4 else { return nil }
    self.init(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
  }

  public var netlinkBytes: [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
  }
}

extension IPv6Address: NetlinkAddress {
  public static var addressFamily: Int32 { AF_INET6 }

  public init?(netlinkBytes bytes: ArraySlice<UInt8>) {
    guard bytes.count == 16 else { return nil }
    self.init(bytes: bytes)
  }

  public var netlinkBytes: [UInt8] { bytes }
}

extension NetlinkAttributes {
  /// An address of family `A`; nil when absent or of the other family.
  func address<A: NetlinkAddress>(_ type: UInt16, as _: A.Type = A.self) -> A? {
    bytes(type).flatMap { A(netlinkBytes: $0) }
  }
}

extension NetlinkRequest {
  func put(_ type: UInt16, address: some NetlinkAddress) { put(type, bytes: address.netlinkBytes) }
}
