import CSystemShims
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// The underlay UDP socket: bound to the interface address and the backend port (the same
/// port is used to send and to receive, as stock flanneld does; with several forwarders each
/// has one on that port through SO_REUSEPORT, and forwarders 1… send from a second one on an
/// ephemeral port), non-blocking, with large buffers so bursts survive between two loop
/// iterations.
public final class UDPSocket: @unchecked Sendable {
  // @unchecked: `descriptor` changes only in `close()`, which is for the owner, after the
  // forwarder using `fd` has stopped; everything else is fixed at init.
  private var descriptor: OwnedDescriptor?
  /// The socket's descriptor number, for the forwarder's requests; valid until `close()`.
  public let fd: Int32
  /// Bound address and port, host byte order (the port is the real one when 0 was asked).
  public let underlay: UnderlayAddress
  public let port: UInt16
  /// The receive buffer size the kernel reports after setup (it doubles what was set).
  public let receiveBufferSize: Int

  /// The IPv4 address bound (0 for an IPv6 socket).
  public var address: UInt32 {
    if case .ipv4(let address) = underlay { return address }
    return 0
  }

  /// True for an AF_INET6 socket (the IPv6 underlay of an IPv6-only network).
  public var isIPv6: Bool {
    if case .ipv6 = underlay { return true }
    return false
  }

  /// The size of this socket's addresses: what a SENDMSG's `msg_namelen` says.
  public var nameLength: Int {
    isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
  }

  /// An AF_INET socket on `address:port` (host order).
  public convenience init(
    address: UInt32, port: UInt16, bufferSize: Int = 7 << 20, reusePort: Bool = false
  ) throws(DataPlaneError) {
    try self.init(
      underlay: .ipv4(address), port: port, bufferSize: bufferSize, reusePort: reusePort)
  }

  /// `underlay` picks the family: an IPv4 address an AF_INET socket, an IPv6 one an AF_INET6
  /// socket with IPV6_V6ONLY (it never sees IPv4-mapped senders).
  /// `bufferSize` is tried with SO_RCVBUFFORCE/SO_SNDBUFFORCE (needs CAP_NET_ADMIN), then with
  /// the plain options, which the kernel caps at net.core.{r,w}mem_max; 0 leaves the defaults.
  /// `reusePort` sets SO_REUSEPORT before the bind, so that one socket per forwarder can bind
  /// the same address and port; the kernel then spreads incoming datagrams over them by a
  /// hash of the sender's address and port. Off for a single socket (a second daemon on the
  /// same port then fails with EADDRINUSE, as before).
  public init(
    underlay: UnderlayAddress, port: UInt16, bufferSize: Int = 7 << 20, reusePort: Bool = false
  ) throws(DataPlaneError) {
    let object = "udp \(formatUnderlay(underlay)):\(port)"
    let ipv6: Bool
    if case .ipv6 = underlay { ipv6 = true } else { ipv6 = false }
    // Closed on the way out if a step below fails.
    let descriptor = OwnedDescriptor(
      try retryingOnEINTR("socket for", object: object) {
        socket(
          ipv6 ? AF_INET6 : AF_INET,
          Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            | Int32(SOCK_CLOEXEC.rawValue), 0)
      })
    let fd = descriptor.rawValue
    if bufferSize > 0 {
      Self.setBuffer(fd, force: SO_RCVBUFFORCE, plain: SO_RCVBUF, size: bufferSize)
      Self.setBuffer(fd, force: SO_SNDBUFFORCE, plain: SO_SNDBUF, size: bufferSize)
    }
    var one: Int32 = 1
    if ipv6 {
      try retryingOnEINTR("setsockopt(IPV6_V6ONLY)", object: object) {
        setsockopt(
          fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
      }
    }
    if reusePort {
      try retryingOnEINTR("setsockopt(SO_REUSEPORT)", object: object) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
      }
    }
    var local = sockaddr_in6()
    switch underlay {
    case .ipv4(let address):
      let name = makeSocketAddress(address, port)
      withUnsafeMutableBytes(of: &local) { $0.storeBytes(of: name, as: sockaddr_in.self) }
    case .ipv6(let high, let low):
      local = makeSocketAddress6(high: high, low: low, port: port)
    }
    let nameLength = socklen_t(
      ipv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    try retryingOnEINTR("bind", object: object) {
      withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, nameLength) }
      }
    }
    var bound = sockaddr_in6()
    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    try retryingOnEINTR("getsockname", object: object) {
      withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
      }
    }
    // sin_port and sin6_port sit at the same offset.
    self.port = UInt16(bigEndian: bound.sin6_port)
    self.fd = fd
    self.descriptor = consume descriptor
    self.underlay = underlay
    self.receiveBufferSize = Self.getInt(fd, SO_RCVBUF)
  }

  /// Asks for UDP GRO (`UDP_GRO`, kernel 5.0; reliable from 5.12): the kernel may then hand
  /// over a train of equal-size datagrams from one sender as one, with a UDP_GRO control
  /// message giving their size. Throws the kernel's refusal.
  public func enableReceiveOffload() throws(SystemCallError) {
    var one: Int32 = 1
    try retryingOnEINTR("setsockopt(UDP_GRO)", object: objectName) {
      setsockopt(
        fd, Int32(FLANNEL_SOL_UDP), Int32(FLANNEL_UDP_GRO), &one,
        socklen_t(MemoryLayout<Int32>.size))
    }
  }

  /// Closes the socket; later calls do nothing. Otherwise it is closed when the socket is
  /// released.
  public func close() { descriptor = nil }

  private static func setBuffer(_ fd: Int32, force: Int32, plain: Int32, size: Int) {
    var value = Int32(clamping: size)
    let length = socklen_t(MemoryLayout<Int32>.size)
    if setsockopt(fd, SOL_SOCKET, force, &value, length) == 0 { return }
    _ = setsockopt(fd, SOL_SOCKET, plain, &value, length)
  }

  private static func getInt(_ fd: Int32, _ option: Int32) -> Int {
    var value: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    _ = getsockopt(fd, SOL_SOCKET, option, &value, &length)
    return Int(value)
  }
}

extension UDPSocket {
  /// "udp 10.0.0.1:8285" or "udp [fd00::1]:8285", how errors name this socket.
  var objectName: String { "udp \(formatUnderlay(underlay)):\(port)" }
}

/// "10.0.0.1" or "[fd00::1]" (for messages only).
func formatUnderlay(_ address: UnderlayAddress) -> String {
  switch address {
  case .ipv4(let address): return formatIPv4(address)
  case .ipv6(let high, let low):
    var name = makeSocketAddress6(high: high, low: low, port: 0).sin6_addr
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    guard inet_ntop(AF_INET6, &name, &text, socklen_t(text.count)) != nil else { return "[?]" }
    return "["
      + String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "]"
  }
}

/// Dotted quad for a host-order address (for messages only).
func formatIPv4(_ address: UInt32) -> String {
  "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff)"
}
