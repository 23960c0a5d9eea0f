#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed step of an atomic write or read: what was done, to which path, and the
/// system's words for why (`strerror`).
public struct AtomicFileError: Error, Equatable, CustomStringConvertible {
  public let operation: String
  public let path: String
  public let errno: Int32

  public init(operation: String, path: String, errno: Int32) {
    self.operation = operation
    self.path = path
    self.errno = errno
  }

  public var description: String {
    "\(operation) \(path): \(String(cString: strerror(errno)))"
  }
}
