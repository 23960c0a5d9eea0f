import Synchronization
import SystemCalls

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where formatted log lines go. Tests inject a collecting writer.
public protocol LogLineWriter: Sendable {
  /// Writes one complete line (with its newline) before returning.
  func write(line: String)
}

/// Writes each line to stderr (or another descriptor) with `write(2)` straight away, under a
/// lock, so lines from several threads never interleave and each is visible at once
/// (journald, `kubectl logs`): line-buffered without a buffer.
public final class StderrLineWriter: LogLineWriter {
  public static let shared = StderrLineWriter()
  private let lock = Mutex(())
  private let fileDescriptor: Int32

  public init(fileDescriptor: Int32 = 2) {
    self.fileDescriptor = fileDescriptor
  }

  public func write(line: String) {
    var bytes = Array(line.utf8)
    lock.withLock { _ in
      bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
          let (start, remaining) = (buffer.baseAddress! + offset, buffer.count - offset)
          let written = try? retryingOnEINTR("write", object: "stderr") {
            systemWrite(fileDescriptor, start, remaining)
          }
          // stderr is gone (or wrote nothing): nothing sensible left to report to.
          guard let written, written > 0 else { return }
          offset += written
        }
      }
    }
  }
}

/// write(2) under a name that methods called `write` cannot shadow.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
  write(fd, bytes, count)
}
