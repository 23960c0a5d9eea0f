/// What one health listener may hold, whatever its clients do (issue 12: idle and slow
/// clients starved a server that served one connection at a time).
public struct HealthServerLimits: Sendable, Equatable {
  /// Open connections; a new one past this closes the connection idle longest (a fresh one
  /// that has sent nothing yet, or a keep-alive one between requests), or the oldest when
  /// none is idle — so a probe always gets in.
  public var maxConnections = 64
  /// From the accept (or the first byte after a keep-alive response) to the end of the
  /// request: the whole head, not each read, so a client dribbling bytes is closed at 5 s.
  public var requestDeadline: Duration = .seconds(5)
  /// Bytes of one request (head and any body); past it: 431 and close.
  public var maxRequestBytes = 8192
  /// How long a keep-alive connection may wait for its next request (Prometheus scrapes
  /// every 15–60 s and reuses its connection).
  public var keepAliveIdle: Duration = .seconds(120)
  /// The kernel's queue of connections not yet accepted: above the cap, so a burst of
  /// connects waits to be accepted instead of having its SYNs dropped.
  public var backlog = 128

  public init() {}
}
