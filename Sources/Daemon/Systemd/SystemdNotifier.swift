#if canImport(Glibc)
  import Glibc
#endif

public struct SystemdNotifyError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// `sd_notify(3)` without libsystemd: one datagram on the AF_UNIX socket named by
/// `$NOTIFY_SOCKET` (a path, or an abstract name written with a leading `@`).
public enum SystemdNotifier {
  /// Sends `state` (e.g. "READY=1"). Returns false without doing anything when
  /// `NOTIFY_SOCKET` is unset or empty (not started by systemd with Type=notify).
  @discardableResult
  public static func notify(_ state: String, environment: [String: String])
    throws(SystemdNotifyError) -> Bool
  {
    guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else { return false }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var path = Array(name.utf8)
    let abstract = path.first == UInt8(ascii: "@")
    guard abstract || path.first == UInt8(ascii: "/") else {
      throw SystemdNotifyError(
        "NOTIFY_SOCKET=\(name) is neither an absolute path nor an abstract name (@...)")
    }
    if abstract { path[0] = 0 }
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    // A path needs its terminating NUL; an abstract name is exactly its bytes.
    guard path.count + (abstract ? 0 : 1) <= capacity else {
      throw SystemdNotifyError("NOTIFY_SOCKET=\(name) is longer than \(capacity - 1) bytes")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: path)
    }
    let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
    let length = socklen_t(pathOffset + path.count + (abstract ? 0 : 1))
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else {
      throw SystemdNotifyError("socket(AF_UNIX): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    let bytes = Array(state.utf8)
    let sent = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
        bytes.withUnsafeBytes {
          sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length)
        }
      }
    }
    guard sent == bytes.count else {
      throw SystemdNotifyError(
        "sending \(state) to NOTIFY_SOCKET=\(name): \(String(cString: strerror(errno)))")
    }
    return true
  }
}
