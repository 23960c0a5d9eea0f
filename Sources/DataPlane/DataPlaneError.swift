#if canImport(Glibc)
  import Glibc
#endif

/// A failed system call: what was being done to what, and the errno it ended with, e.g.
/// `ioctl(TUNSETIFF) flannel%d: Operation not permitted`.
public struct DataPlaneError: Error, Equatable, CustomStringConvertible, Sendable {
  public let operation: String
  public let errno: Int32

  public init(_ operation: String, errno: Int32) {
    self.operation = operation
    self.errno = errno
  }

  public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

/// Runs a system call, retrying EINTR; a -1 result becomes a DataPlaneError with `errno`.
@discardableResult
func systemCall(_ operation: @autoclosure () -> String, _ call: () -> Int32) throws(DataPlaneError)
  -> Int32
{
  while true {
    let result = call()
    if result != -1 { return result }
    let code = errno
    if code == EINTR { continue }
    throw DataPlaneError(operation(), errno: code)
  }
}
