#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file descriptor with one owner, closed exactly once: by `close()`, or when the owner's
/// scope or object ends. Noncopyable, so the compiler rules out a second close and a use after
/// close; a type that must be able to close early holds it as an optional and sets it to nil.
///
///     let file = OwnedDescriptor(try retryingOnEINTR("open", object: path) { open(path, O_RDONLY) })
///     // … a throw from here on closes it on the way out
public struct OwnedDescriptor: ~Copyable, Sendable {
  /// The number, for the calls that take one; it names this descriptor only while it is owned.
  public let rawValue: Int32

  /// Takes ownership of an open descriptor (as a call that creates one returned it).
  public init(_ rawValue: Int32) {
    precondition(rawValue >= 0, "OwnedDescriptor of a failed call's result \(rawValue)")
    self.rawValue = rawValue
  }

  /// Closes now rather than at the end of the owner's scope.
  public consuming func close() {}

  deinit {
    // Never retried: Linux frees the number even when close reports EINTR, and a retry could
    // close a descriptor another thread has opened meanwhile. Other errors (EIO from a
    // filesystem) concern data written before; callers that care fsync first.
    _ = closeDescriptor(rawValue)
  }
}

/// close(2) under a name that `OwnedDescriptor.close()` does not shadow.
private func closeDescriptor(_ descriptor: Int32) -> Int32 {
  #if canImport(Glibc)
    Glibc.close(descriptor)
  #else
    Darwin.close(descriptor)
  #endif
}
