#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Synchronization

/// Where formatted log lines go. Tests inject a collecting writer.
public protocol LogLineWriter: Sendable {
  /// Writes one complete line (with its newline) before returning.
  func write(line: String)
}

/// Writes each line to stderr with one `write(2)`, under a lock, so lines from several
/// threads never interleave and each is visible at once (journald, `kubectl logs`).
public final class StderrLineWriter: LogLineWriter {
  public static let shared = StderrLineWriter()
  private let lock = Mutex(())

  public init() {}

  public func write(line: String) {
    var bytes = Array(line.utf8)
    lock.withLock { _ in
      bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
          let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
          if written > 0 {
            offset += written
          } else if written < 0 && errno == EINTR {
            continue
          } else {
            return  // stderr is gone; nothing sensible left to report to
          }
        }
      }
    }
  }
}
