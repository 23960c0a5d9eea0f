#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs a system call that reports failure as -1 with `errno` (open, ioctl, read, recv, poll,
/// mnl_socket_recvfrom, …) until it ends other than by a signal: EINTR is retried here, once
/// for every caller, and any other failure is thrown naming `operation`, `object` and the
/// errno. Both texts are built only when the call fails. Callers that treat an errno as an
/// answer (EAGAIN on a non-blocking socket) catch the error and look at `errno`.
///
/// Not for io_uring, whose calls return -errno instead of setting errno.
@inlinable
@discardableResult
public func retryingOnEINTR<Result: FixedWidthInteger & SignedInteger>(
  _ operation: @autoclosure () -> String, object: @autoclosure () -> String = "",
  _ call: () -> Result
) throws(SystemCallError) -> Result {
  while true {
    let result = call()
    if result != -1 { return result }
    let code = errno
    if code == EINTR { continue }
    throw SystemCallError(operation: operation(), object: object(), errno: code)
  }
}
