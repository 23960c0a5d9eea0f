import Etcd
import Foundation
import TestSupport
import Testing

/// Timing bounds here must survive a 2-core machine running every etcd test in parallel
/// (measured: 8 ms alone, up to 1.7 s under that load), so the tests that show "no waiting"
/// configure timeouts far above their bound instead of asserting milliseconds.
func slowTimeouts(_ endpoints: [String]) -> EtcdClientConfig {
  EtcdClientConfig(endpoints: endpoints, requestTimeout: .seconds(20), connectTimeout: .seconds(10))
}

@Suite(.timeLimit(.minutes(1))) struct FailoverTests {
  @Test func silentEndpointFailsOverWithinTheRequestTimeout() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let silent = try TestPort(listening: true)
    let config = EtcdClientConfig(
      endpoints: [silent.endpoint, f.etcd.endpoint], requestTimeout: .seconds(1))
    let v3 = try EtcdV3Client(config: config)
    let v2 = try EtcdV2Client(config: config)
    try await f.v3.put("/k", value: "v")
    try await f.v2.set("/k", value: "v2")

    var value: String?
    let took = try await elapsed { value = try await v3.get("/k").kv?.value }
    #expect(value == "v")
    #expect(took >= .milliseconds(900) && took < .seconds(2))
    // The endpoint that answered is now tried first: no second wait.
    let again = try await elapsed { _ = try await v3.get("/k") }
    #expect(again < .milliseconds(500))

    // The same for a v2 call and a v2 long poll (headers must come within the timeout).
    var v2Value: String?
    let tookV2 = try await elapsed { v2Value = try await v2.get("/k").node?.value }
    #expect(v2Value == "v2")
    #expect(tookV2 < .seconds(2))
  }

  @Test(arguments: ["v3 watch", "v2 long poll"])
  func silentEndpointFailsOverForStreams(kind: String) async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let silent = try TestPort(listening: true)
    let config = EtcdClientConfig(
      endpoints: [silent.endpoint, f.etcd.endpoint], requestTimeout: .seconds(1))
    let took = try await elapsed {
      if kind == "v3 watch" {
        let rev = try await f.v3.put("/s/a", value: "1")
        let got = try await collect(
          try EtcdV3Client(config: config).watch(prefix: "/s/", startRevision: rev), count: 1)
        #expect(got.first?.event.kv.modRevision == rev)
      } else {
        let index = try await f.v2.set("/s/a", value: "1").etcdIndex
        let got = try await EtcdV2Client(config: config).watch(
          "/s", recursive: true, waitIndex: index)
        #expect(got.node?.modifiedIndex == index)
      }
    }
    // One request timeout on the silent endpoint, then etcd answers at once.
    #expect(took >= .milliseconds(900) && took < .seconds(3))
  }

  @Test func closedPortFailsOverAtOnce() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let port = try TestPort(listening: false)
    let closed = port.endpoint
    let v3 = try EtcdV3Client(config: slowTimeouts([closed, f.etcd.endpoint]))
    let took = try await elapsed { try await v3.put("/k", value: "v") }
    // Well below the timeouts: a refused connect moves on at once.
    #expect(took < .seconds(4))
    #expect(try await f.v3.get("/k").kv?.value == "v")
  }

  @Test func allEndpointsDeadIsUnavailableQuickly() async throws {
    let ports = [try TestPort(listening: false), try TestPort(listening: false)]
    let dead = ports.map(\.endpoint)
    let config = slowTimeouts(dead)
    let v3 = try EtcdV3Client(config: config)
    let v2 = try EtcdV2Client(config: config)
    let took = await elapsed {
      await #expect {
        _ = try await v3.get("/k")
      } throws: { error in
        guard case EtcdError.unavailable(let endpoints, let last) = error else { return false }
        return endpoints == dead && last.contains("etcd v3 get /k") && last.contains(dead[1])
      }
      await #expect {
        _ = try await v2.watch("/k", recursive: false, waitIndex: 1)
      } throws: { error in
        guard case EtcdError.unavailable = error else { return false }
        return "\(error)".contains("etcd v2 watch /k")
      }
      var stream = v3.watch(prefix: "/", startRevision: 1).makeAsyncIterator()
      await #expect(throws: EtcdError.self) { _ = try await stream.next() }
    }
    // Far below the timeouts.
    #expect(took < .seconds(4))
  }
}
