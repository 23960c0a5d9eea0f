#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed system call (or a kernel request made through one): what was being done, to what,
/// and the errno it ended with, so that a log line alone says which object failed and why —
/// `ioctl(TUNSETIFF) flannel0: Operation not permitted`,
/// `route replace 10.1.16.0/24 via 10.1.16.0 dev flannel.1: Network is unreachable`,
/// `create temporary file /run/flannel/.subnet.env.x1: Permission denied`.
/// DataPlane, Netlink and Daemon all throw this one type (DataPlaneError, NetlinkError and
/// AtomicFileError are its names there).
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The call, or the operation it carried out: `bind`, `ioctl(TUNSETIFF)`, `route replace`.
  public let operation: String
  /// What it concerned — a device, an address, a path — or empty when `operation` says it.
  public let object: String
  public let errno: Int32

  public init(operation: String, object: String = "", errno: Int32) {
    self.operation = operation
    self.object = object
    self.errno = errno
  }

  /// For an operation whose text already names its object: `io_uring_queue_init_params(4096)`.
  public init(_ operation: String, errno: Int32) {
    self.init(operation: operation, errno: errno)
  }

  /// strerror's text, e.g. "Network is unreachable".
  public var errnoText: String { String(cString: strerror(errno)) }

  public var description: String {
    object.isEmpty ? "\(operation): \(errnoText)" : "\(operation) \(object): \(errnoText)"
  }
}
