import FlannelCore
import Foundation
import Logging

/// Fetches and validates `<prefix>/config`, retrying every second until it is usable (§2.2:
/// "Couldn't fetch network config: …", retried forever). A missing key, malformed JSON, an
/// invalid field or an etcd outage never crash the daemon: each is reported with what to do,
/// and the node comes up as soon as the config is fixed.
public struct NetworkConfigWaiter: Sendable {
  public let locator: NetworkConfigLocator
  public let interval: Duration
  public let logger: Logger
  /// Checks beyond §2.2 that the caller needs (e.g. a backend type it can run).
  public let accept: @Sendable (NetworkConfig) throws -> Void
  /// Told about every failed attempt (tests count them; the log shows only new problems).
  public let onAttemptFailed: @Sendable (any Error) -> Void

  public init(
    locator: NetworkConfigLocator, interval: Duration = .seconds(1), logger: Logger,
    onAttemptFailed: @escaping @Sendable (any Error) -> Void = { _ in },
    accept: @escaping @Sendable (NetworkConfig) throws -> Void = { _ in }
  ) {
    self.locator = locator
    self.interval = interval
    self.logger = logger
    self.onAttemptFailed = onAttemptFailed
    self.accept = accept
  }

  public struct Ready: Sendable {
    public let registry: any LeaseRegistry
    public let config: NetworkConfig
  }

  /// One attempt: the config and the registry of the API where it was found.
  public func attempt() async throws -> Ready {
    let found = try await locator.locate()
    let config: NetworkConfig
    do {
      config = try NetworkConfig.parse(found.text)
    } catch {
      throw InvalidNetworkConfig(
        key: locator.prefix + "/config", api: found.registry.apiName, reason: "\(error)")
    }
    do {
      try accept(config)
    } catch {
      throw InvalidNetworkConfig(
        key: locator.prefix + "/config", api: found.registry.apiName, reason: "\(error)")
    }
    return Ready(registry: found.registry, config: config)
  }

  /// Retries until an attempt succeeds or the task is cancelled. A new problem is logged at
  /// error level at once; the same one again only every 30 s, so the log stays readable.
  public func wait() async throws -> Ready {
    var lastMessage = ""
    var lastLogged = ContinuousClock.now
    while true {
      try Task.checkCancellation()
      do {
        let ready = try await attempt()
        if !lastMessage.isEmpty { logger.info("Network config is usable now") }
        return ready
      } catch is CancellationError {
        throw CancellationError()
      } catch {
        onAttemptFailed(error)
        let message = "\(error)"
        if message != lastMessage || ContinuousClock.now - lastLogged >= .seconds(30) {
          logger.error("Couldn't fetch network config: \(message) (retrying every \(interval))")
          lastMessage = message
          lastLogged = ContinuousClock.now
        }
      }
      try await Task.sleep(for: interval)
    }
  }
}

/// The config exists but cannot be used: say which key, through which API, and why.
public struct InvalidNetworkConfig: Error, Sendable, CustomStringConvertible {
  public let key: String
  public let api: String
  public let reason: String
  public var description: String {
    "\(key) (etcd \(api)) is not a usable network config: \(reason)"
  }
}
