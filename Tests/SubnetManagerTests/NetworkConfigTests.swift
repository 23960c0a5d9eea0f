import Etcd
import FlannelCore
import Foundation
import SubnetManager
import Synchronization
import Testing

@Suite struct NetworkConfigTests {
  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func autoFindsTheConfigWhereverItWasWrittenAndLeasesThroughThatAPI(written: EtcdAPIChoice)
    async throws
  {
    let cluster = try await TestCluster(api: written)
    defer { cluster.etcd.stop() }
    let locator = try NetworkConfigLocator(
      choice: .auto, prefix: cluster.prefix, config: cluster.clientConfig)
    let found = try await locator.locate()
    #expect(found.registry.apiName == written.rawValue)
    #expect(try NetworkConfig.parse(found.text).network == IPv4Network("10.1.0.0/16"))
  }

  @Test func missingEverywhereNamesBothPlacesAndTheCommandsThatFixIt() async throws {
    let cluster = try await TestCluster(api: .v3)
    defer { cluster.etcd.stop() }
    let locator = try NetworkConfigLocator(
      choice: .auto, prefix: "/nowhere/network", config: cluster.clientConfig)
    let error = await #expect(throws: NetworkConfigNotFound.self) { try await locator.locate() }
    let text = error.map { "\($0)" } ?? ""
    #expect(text.contains("/nowhere/network/config"))
    #expect(text.contains("etcd v3 API") && text.contains("etcd v2 keys API"))
    #expect(
      text.contains(
        "ETCDCTL_API=3 etcdctl --endpoints=\(cluster.etcd.endpoint) put /nowhere/network/config"))
    #expect(
      text.contains("curl -X PUT \(cluster.etcd.endpoint)/v2/keys/nowhere/network/config -d value=")
    )
  }

  @Test func anExplicitAPIDoesNotLookInTheOther() async throws {
    let cluster = try await TestCluster(api: .v2)
    defer { cluster.etcd.stop() }
    let locator = try NetworkConfigLocator(
      choice: .v3, prefix: cluster.prefix, config: cluster.clientConfig)
    let error = await #expect(throws: NetworkConfigNotFound.self) { try await locator.locate() }
    let text = error.map { "\($0)" } ?? ""
    #expect(text.contains("etcd v3 API") && !text.contains("v2 keys API"))
  }

  @Test(arguments: [EtcdAPIChoice.v3, .v2])
  func aMalformedConfigIsReportedRetriedAndPickedUpOnceFixed(api: EtcdAPIChoice) async throws {
    let cluster = try await TestCluster(
      api: api, config: #"{"Network": "10.5.0.0/16", "Backend": "#)
    defer { cluster.etcd.stop() }
    let failures = Mutex<[String]>([])
    let waiter = NetworkConfigWaiter(
      locator: try NetworkConfigLocator(
        choice: .auto, prefix: cluster.prefix, config: cluster.clientConfig),
      interval: .seconds(1), logger: testLogger("waiter"),
      onAttemptFailed: { error in failures.withLock { $0.append("\(error)") } })
    let waiting = Task { try await waiter.wait() }
    // Retried, not crashed: at least two failed attempts, a second apart.
    #expect(await eventually(within: .seconds(5)) { failures.withLock { $0.count } >= 2 })
    let first = failures.withLock { $0.first } ?? ""
    #expect(first.contains("\(cluster.prefix)/config"))
    #expect(first.contains("etcd \(api.rawValue)"))
    #expect(
      first.lowercased().contains("json") || first.contains("offset") || first.contains("line"))

    try await cluster.writeConfig(#"{"Network": "10.5.0.0/16"}"#)
    let ready = try await waiting.value
    #expect(ready.config.network == IPv4Network("10.5.0.0/16"))
    #expect(ready.registry.apiName == api.rawValue)
  }

  @Test func aConfigFailingTheCallersCheckIsRetriedWithTheReason() async throws {
    let cluster = try await TestCluster(
      api: .v3, config: #"{"Network": "10.5.0.0/16", "Backend": {"Type": "geneve"}}"#)
    defer { cluster.etcd.stop() }
    struct Refused: Error, CustomStringConvertible {
      var description = "unknown backend type: geneve"
    }
    let waiter = NetworkConfigWaiter(
      locator: try NetworkConfigLocator(
        choice: .auto, prefix: cluster.prefix, config: cluster.clientConfig),
      logger: testLogger("waiter"),
      accept: { config in if config.backend.type == "geneve" { throw Refused() } })
    let error = await #expect(throws: InvalidNetworkConfig.self) { try await waiter.attempt() }
    #expect(error?.reason.contains("unknown backend type: geneve") == true)
  }
}
