import Logging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A swift-log handler printing klog-style lines (see `GlogLine`) to a `LogLineWriter`.
public struct GlogLogHandler: LogHandler {
  public var logLevel: Logger.Level
  public var metadata: Logger.Metadata = [:]
  public var metadataProvider: Logger.MetadataProvider?
  private let label: String
  private let writer: any LogLineWriter
  private let clock: @Sendable () -> GlogLine.Timestamp
  private let pid: Int32

  public init(
    label: String, logLevel: Logger.Level = .info,
    writer: any LogLineWriter = StderrLineWriter.shared,
    metadataProvider: Logger.MetadataProvider? = nil,
    clock: @escaping @Sendable () -> GlogLine.Timestamp = GlogLogHandler.localNow,
    pid: Int32 = getpid()
  ) {
    self.label = label
    self.logLevel = logLevel
    self.writer = writer
    self.metadataProvider = metadataProvider
    self.clock = clock
    self.pid = pid
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  // log(event:) arrived in swift-log 1.16.2; the older entry points are deprecated there.
  public func log(event: LogEvent) {
    var merged = metadata
    if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
    if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
    let line = GlogLine.format(
      level: Self.name(of: event.level), time: clock(), pid: pid, label: label,
      message: event.message.description,
      metadata: merged.map { ($0.key, $0.value.description) })
    writer.write(line: line)
  }

  static func name(of level: Logger.Level) -> LogLevelName {
    switch level {
    case .trace: .trace
    case .debug: .debug
    case .info: .info
    case .notice: .notice
    case .warning: .warning
    case .error: .error
    case .critical: .critical
    }
  }

  /// Local time now, as klog prints it.
  @Sendable public static func localNow() -> GlogLine.Timestamp {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    localtime_r(&seconds, &parts)
    return GlogLine.Timestamp(
      month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday), hour: Int(parts.tm_hour),
      minute: Int(parts.tm_min), second: Int(parts.tm_sec), microsecond: now.tv_nsec / 1000)
  }
}
