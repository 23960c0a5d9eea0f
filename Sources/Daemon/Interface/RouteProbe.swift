import FlannelCore

#if canImport(Glibc)
  import Glibc
#endif

/// The source address the kernel would use to reach a destination, found without netlink:
/// `connect(2)` on a UDP socket runs the full route lookup (policy rules, tables, `src`
/// hints) but sends nothing; `getsockname(2)` then returns the chosen source address.
public enum RouteProbe {
  public enum Failure: Error, Equatable {
    /// connect(2) failed, usually ENETUNREACH (no route).
    case unreachable(errno: Int32)
    case socket(errno: Int32)
  }

  public static func sourceAddress(toward destination: IPv4Address) -> Result<
    IPv4Address, Failure
  > {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return .failure(.socket(errno: errno)) }
    defer { close(fd) }
    var remote = sockaddr_in()
    remote.sin_family = sa_family_t(AF_INET)
    // Any non-zero port will do: nothing is sent.
    remote.sin_port = UInt16(9).bigEndian
    remote.sin_addr.s_addr = destination.value.bigEndian
    let connected = withUnsafePointer(to: &remote) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { return .failure(.unreachable(errno: errno)) }
    var local = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &local) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { return .failure(.socket(errno: errno)) }
    return .success(IPv4Address(UInt32(bigEndian: local.sin_addr.s_addr)))
  }
}
