import Foundation
import TestSupport
import Testing

@testable import Etcd

@Suite struct V2KeysTests {
  @Test func setGetRecursiveDelete() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let s1 = try await f.v2.set("/net/subnets/10.1.1.0-24", value: "a")
    #expect(s1.action == "set")
    #expect(s1.node?.value == "a")
    #expect(s1.etcdIndex == s1.node?.modifiedIndex)
    try await f.v2.set("/net/subnets/10.1.2.0-24&fc00::-64", value: #"{"PublicIP":"1.2.3.4"}"#)
    try await f.v2.set("/net/config", value: "cfg")

    let one = try await f.v2.get("/net/subnets/10.1.1.0-24")
    #expect(one.action == "get")
    #expect(one.node?.value == "a")
    #expect(one.node?.dir == false)

    let tree = try await f.v2.get("/net/subnets", recursive: true)
    #expect(tree.node?.dir == true)
    #expect(
      tree.node?.nodes.map(\.key).sorted() == [
        "/net/subnets/10.1.1.0-24", "/net/subnets/10.1.2.0-24&fc00::-64",
      ])
    #expect(tree.node?.nodes.compactMap(\.value).contains(#"{"PublicIP":"1.2.3.4"}"#) == true)
    #expect(tree.etcdIndex >= s1.etcdIndex + 2)

    let deleted = try await f.v2.delete("/net/subnets/10.1.1.0-24")
    #expect(deleted.action == "delete")
    #expect(deleted.prevNode?.value == "a")
    await #expect {
      _ = try await f.v2.get("/net/subnets/10.1.1.0-24")
    } throws: { error in
      guard case EtcdError.v2(let e) = error else { return false }
      return e.errorCode == EtcdV2Error.keyNotFound && e.index == deleted.etcdIndex
        && e.cause == "/net/subnets/10.1.1.0-24"
    }
    // Keys written through the client are what etcdctl (v2) sees.
    let viaCtl = try f.etcd.etcdctl(["get", "/net/config"], api: "2")
    #expect(viaCtl.trimmingCharacters(in: .whitespacesAndNewlines) == "cfg")
  }

  @Test func createOnlyTwiceFailsWithNodeExists() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let created = try await f.v2.set("/lease", value: "1", prevExist: false)
    #expect(created.action == "create")
    await #expect {
      _ = try await f.v2.set("/lease", value: "2", prevExist: false)
    } throws: { error in
      guard case EtcdError.v2(let e) = error else { return false }
      return e.errorCode == EtcdV2Error.nodeExists
    }
    #expect(try await f.v2.get("/lease").node?.value == "1")
    #expect(try await f.v2.set("/lease", value: "3", prevExist: true).action == "update")
  }

  @Test func ttlShowsTTLAndExpiration() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let before = Date()
    let r = try await f.v2.set("/ttl", value: "x", ttl: 100)
    #expect(r.node?.ttl == 100)
    let expiration = try #require(r.node?.expiration)
    #expect(expiration > before.addingTimeInterval(98))
    #expect(expiration < Date().addingTimeInterval(101))
    let got = try await f.v2.get("/ttl")
    #expect(got.node?.ttl.map { $0 > 90 && $0 <= 100 } == true)
    #expect(got.node?.expiration == expiration)
  }

  @Test func watchFromIndexReturnsThatEvent() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let a = try await f.v2.set("/w/a", value: "1")
    let b = try await f.v2.set("/w/b", value: "2")
    try await f.v2.set("/other", value: "x")
    let del = try await f.v2.delete("/w/a")

    let first = try await f.v2.watch("/w", recursive: true, waitIndex: a.etcdIndex + 1)
    #expect(first.node?.key == "/w/b")
    #expect(first.node?.modifiedIndex == b.etcdIndex)
    let second = try await f.v2.watch("/w", recursive: true, waitIndex: b.etcdIndex + 1)
    #expect(second.action == "delete")
    #expect(second.node?.key == "/w/a")
    #expect(second.node?.modifiedIndex == del.etcdIndex)
    let own = try await f.v2.watch("/w/b", recursive: false, waitIndex: a.etcdIndex)
    #expect(own.node?.key == "/w/b")
  }

  @Test func longPollWaitsLongerThanTheRequestTimeout() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let client = try EtcdV2Client(
      config: EtcdClientConfig(endpoints: [f.etcd.endpoint], requestTimeout: .seconds(1)))
    let now = try await client.set("/lp/seed", value: "x").etcdIndex
    let poll = Task { try await client.watch("/lp", recursive: true, waitIndex: now + 1) }
    // Waiting past the request timeout is the point of this test, not synchronisation.
    try await Task.sleep(for: .milliseconds(1500))
    let set = try await client.set("/lp/later", value: "y")
    let event = try await poll.value
    #expect(event.node?.key == "/lp/later")
    #expect(event.node?.modifiedIndex == set.etcdIndex)
  }

  @Test func cancellingALongPollEndsItPromptly() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let now = try await f.v2.set("/cp/seed", value: "x").etcdIndex
    let poll = Task { try await f.v2.watch("/cp", recursive: true, waitIndex: now + 1) }
    let watchURL = f.etcd.endpoint + "/v2/keys/cp?wait=true"
    #expect(
      await eventually { CurlMultiLoop.shared.activeCount(urlPrefix: watchURL) == 1 })
    let took = await elapsed {
      poll.cancel()
      await #expect {
        _ = try await poll.value
      } throws: { error in
        guard case EtcdError.cancelled = error else { return false }
        return true
      }
    }
    #expect(took < .seconds(1))
    #expect(CurlMultiLoop.shared.activeCount(urlPrefix: f.etcd.endpoint) == 0)
  }

  @Test func waitIndexOutsideHistoryIsEventIndexCleared() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let start = try await f.v2.set("/h/seed", value: "x").etcdIndex
    try await withThrowingTaskGroup(of: Void.self) { group in
      for i in 0..<1100 {
        if i >= 50 { try await group.next() }
        group.addTask { _ = try await f.v2.set("/h/\(i % 10)", value: "\(i)") }
      }
      try await group.waitForAll()
    }
    await #expect {
      _ = try await f.v2.watch("/h", recursive: true, waitIndex: start)
    } throws: { error in
      guard case EtcdError.v2(let e) = error else { return false }
      return e.errorCode == EtcdV2Error.eventIndexCleared && e.index >= start + 1100
    }
  }
}
