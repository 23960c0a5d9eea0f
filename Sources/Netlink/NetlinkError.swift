#if canImport(Glibc)
  import Glibc
#endif

/// A failed netlink operation: what was being done (`route replace`), to what
/// (`10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink`) and the kernel's errno, so that a log
/// line alone says which entry failed and why.
public struct NetlinkError: Error, Equatable, CustomStringConvertible {
  public let operation: String
  public let object: String
  public let errno: Int32

  public init(operation: String, object: String, errno: Int32) {
    self.operation = operation
    self.object = object
    self.errno = errno
  }

  /// strerror's text, e.g. "Network is unreachable".
  public var errnoText: String { String(cString: strerror(errno)) }

  public var description: String {
    object.isEmpty ? "\(operation): \(errnoText)" : "\(operation) \(object): \(errnoText)"
  }
}
