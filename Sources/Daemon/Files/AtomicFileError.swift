import SystemCalls

/// A failed step of an atomic write or read: what was done, to which path (the error's
/// `object`), and the system's words for why (`strerror`) — the shared `SystemCallError`.
public typealias AtomicFileError = SystemCallError
