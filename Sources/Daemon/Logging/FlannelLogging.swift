import Logging
import Synchronization

/// Process-wide logging setup for flanneld: klog-style lines on stderr, level from `-v`.
public enum FlannelLogging {
  private static let bootstrapped = Mutex(false)

  /// klog `-v` to swift-log: 0 → info, 1 → debug (stock prints data-path errors at v≥1),
  /// 2 and more → trace.
  public static func logLevel(forVerbosity verbosity: Int) -> Logger.Level {
    switch verbosity {
    case ...0: .info
    case 1: .debug
    default: .trace
    }
  }

  /// Installs the stderr handler. `LoggingSystem.bootstrap` traps when called twice, so
  /// later calls do nothing and return false.
  @discardableResult
  public static func bootstrap(verbosity: Int) -> Bool {
    let first = bootstrapped.withLock { done in
      defer { done = true }
      return !done
    }
    guard first else { return false }
    let level = logLevel(forVerbosity: verbosity)
    LoggingSystem.bootstrap { label in GlogLogHandler(label: label, logLevel: level) }
    return true
  }
}
