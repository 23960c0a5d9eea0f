import Etcd
import FlannelCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import SubnetManager

/// Captures warnings, so a test can count them.
final class WarningLog: LogHandler, @unchecked Sendable {
  let lines = Mutex<[String]>([])
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .warning
  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }
  func log(event: LogEvent) {
    lines.withLock { $0.append("\(event.message)") }
  }
}

@Suite struct SkippedKeyTests {
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func unparsableKeysAndLeasesWithoutPublicIPAreSkippedWithOneWarningEach(api: EtcdAPIChoice)
    async throws
  {
    let cluster = try await TestCluster(api: api)
    defer { cluster.etcd.stop() }
    let bad = [
      ("/subnets/not-a-subnet", #"{"PublicIP":"192.168.5.5"}"#),
      ("/subnets/10.1.50.0-24", #"{"BackendType":"udp"}"#),
      ("/subnets/10.1.51.0-24", #"{"PublicIP":"nonsense"}"#),
      ("/subnets/10.1.52.0-24", "not json"),
      // Stock's IPv6-only lease on this IPv4 network: its IPv4 part 0.0.0.0/0 must not become
      // a route to it (warned under its key name).
      ("/subnets/0.0.0.0-0&fc00:0:0:5::-64", #"{"PublicIP":"0.0.0.0","PublicIPv6":"fd00::5"}"#),
    ]
    for (key, value) in bad {
      switch api {
      case .v2:
        _ = try await EtcdV2Client(config: cluster.clientConfig).set(
          cluster.prefix + key, value: value)
      default:
        try await EtcdV3Client(config: cluster.clientConfig).put(cluster.prefix + key, value: value)
      }
    }
    let good = IPv4Network("10.1.60.0/24")!
    _ = try await cluster.registry().createLease(
      good, attrs: LeaseAttrs(publicIP: IPv4Address("192.168.6.6")!), ttl: 0)

    let log = WarningLog()
    var configuration = SubnetManagerConfiguration(publicIP: IPv4Address("192.168.1.1")!)
    configuration.backoffMax = .milliseconds(200)
    let node = SubnetManager(
      registry: try cluster.registry(), network: try NetworkConfig.parse(cluster.config),
      configuration: configuration, logger: Logger(label: "skip") { _ in log })
    let lease = try await node.start()
    #expect(
      ![IPv4Network("10.1.50.0/24")!, IPv4Network("10.1.51.0/24")!, IPv4Network("10.1.52.0/24")!]
        .contains(lease.subnet))
    #expect(node.table.leases.map(\.subnet) == [good])
    // A re-list (lost history) meets the same keys again: still one warning per key.
    await node.pauseWatch()
    await node.resumeWatchAfterResync()
    #expect(await eventually { await node.stats.listings == 1 })
    let warnings = log.lines.withLock { $0 }.filter { $0.hasPrefix("Ignoring ") }
    for (key, _) in bad {
      let name = String(key.split(separator: "/").last!)
      #expect(
        warnings.filter { $0.contains(name + ":") }.count == 1,
        "\(key): \(warnings)")
    }
    await node.stop()
  }
}
