import Etcd
import FlannelCore
import Foundation
import Logging
import SubnetManager
import TestSupport

/// Nodes of one test cluster: a real etcd and a subnet manager per node, all in-process.
struct TestCluster {
  let etcd: EtcdServer
  let api: EtcdAPIChoice
  let prefix: String
  let config: String

  init(api: EtcdAPIChoice, config: String = #"{"Network":"10.1.0.0/16","Backend":{"Type":"udp"}}"#)
    async throws
  {
    etcd = try await offPool { try EtcdServer() }
    self.api = api
    prefix = "/test-\(UInt32.random(in: 0...UInt32.max))/network"
    self.config = config
    try await writeConfig(config)
  }

  var clientConfig: EtcdClientConfig {
    EtcdClientConfig(
      endpoints: [etcd.endpoint], requestTimeout: .seconds(2), connectTimeout: .seconds(1))
  }

  func writeConfig(_ text: String) async throws {
    switch api {
    case .v2:
      _ = try await EtcdV2Client(config: clientConfig).set(prefix + "/config", value: text)
    default:
      try await EtcdV3Client(config: clientConfig).put(prefix + "/config", value: text)
    }
  }

  func registry() throws -> any LeaseRegistry {
    switch api {
    case .v2:
      return EtcdV2LeaseRegistry(client: try EtcdV2Client(config: clientConfig), prefix: prefix)
    default:
      return EtcdV3LeaseRegistry(client: try EtcdV3Client(config: clientConfig), prefix: prefix)
    }
  }

  /// A node with fast retries, so outage tests finish in seconds.
  func node(
    _ ip: String, previous: String? = nil, ttl: Int64 = 86_400,
    renewMargin: Duration = .seconds(3_600), reconnectAfter: Duration? = nil,
    ipv6: String? = nil, previousIPv6: String? = nil
  ) throws -> SubnetManager {
    let registry = try registry()
    var configuration = SubnetManagerConfiguration(
      publicIP: IPv4Address(ip)!, previousSubnet: previous.flatMap { IPv4Network($0) })
    configuration.publicIPv6 = ipv6.flatMap { IPv6Address($0) }
    configuration.previousIPv6Subnet = previousIPv6.flatMap { IPv6Network($0) }
    configuration.leaseTTL = ttl
    configuration.renewMargin = renewMargin
    configuration.renewRetryInterval = .milliseconds(500)
    configuration.backoffMax = .milliseconds(500)
    if let reconnectAfter {
      configuration.backoffInitial = reconnectAfter
      configuration.backoffMax = reconnectAfter
    }
    let network = try NetworkConfig.parse(config)
    let logger = testLogger("node \(ip)")
    return SubnetManager(
      registry: registry, network: network, configuration: configuration, logger: logger)
  }

  /// Subnets held in etcd right now, by PublicIP.
  func leasesInEtcd() async throws -> [IPv4Network: IPv4Address] {
    let listing = try await registry().listLeases()
    var result: [IPv4Network: IPv4Address] = [:]
    for lease in listing.leases { result[lease.subnet] = lease.attrs.publicIP }
    return result
  }

  func deleteLease(_ subnet: IPv4Network) async throws {
    try await registry().deleteLease(subnet)
  }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; a throwing check (etcd
/// briefly unreachable) counts as not yet.
func eventually(
  within timeout: Duration = .seconds(5), _ condition: () async throws -> Bool
) async -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if (try? await condition()) == true { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return (try? await condition()) == true
}

/// Collects every update a node publishes, and replays its events into a table.
final class UpdateRecorder: @unchecked Sendable {
  private let lock = NSLock()
  private var updates: [LeaseUpdate] = []
  private var task: Task<Void, Never>?

  init(_ manager: SubnetManager) {
    let stream = manager.updates()
    task = Task { [weak self] in
      for await update in stream { self?.append(update) }
    }
  }

  deinit { task?.cancel() }

  private func append(_ update: LeaseUpdate) { lock.withLock { updates.append(update) } }

  var all: [LeaseUpdate] { lock.withLock { updates } }
  var events: [LeaseEvent] { all.flatMap(\.events) }

  /// The table rebuilt from events alone; must equal the published table and etcd.
  func replayed() -> [IPv4Network: IPv4Address] {
    var table: [IPv4Network: IPv4Address] = [:]
    for event in events {
      switch event {
      case .added(let lease): table[lease.subnet] = lease.attrs.publicIP
      case .removed(let lease): table.removeValue(forKey: lease.subnet)
      }
    }
    return table
  }

  /// Events that repeat what the replayed table already said (an `added` for an identical
  /// lease, a `removed` for an absent one): these must never happen.
  func doubledEvents() -> [LeaseEvent] {
    var table: [IPv4Network: LeaseAttrs] = [:]
    var doubled: [LeaseEvent] = []
    for event in events {
      switch event {
      case .added(let lease):
        if table[lease.subnet] == lease.attrs { doubled.append(event) }
        table[lease.subnet] = lease.attrs
      case .removed(let lease):
        if table.removeValue(forKey: lease.subnet) == nil { doubled.append(event) }
      }
    }
    return doubled
  }
}

/// Quiet unless TEST_LOG_LEVEL (e.g. "debug") asks for more while chasing a failure.
func testLogger(_ label: String) -> Logger {
  var logger = Logger(label: label)
  let level = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap {
    Logger.Level(rawValue: $0)
  }
  logger.logLevel = level ?? .critical
  return logger
}
