import Foundation
import TestSupport
import Testing

@testable import Etcd

/// Collects watch events until `count` arrived (progress notifications carry none).
func collect(
  _ stream: AsyncThrowingStream<EtcdV3WatchResponse, any Error>, count: Int
) async throws -> [(revision: Int64, event: EtcdV3WatchEvent)] {
  var out: [(Int64, EtcdV3WatchEvent)] = []
  for try await response in stream {
    out += response.events.map { (response.revision, $0) }
    if out.count >= count { break }
  }
  return out
}

@Suite struct V3WatchTests {
  @Test func seesPutsAndDeletesInOrder() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let start = try await f.v3.put("/before", value: "x") + 1
    let stream = f.v3.watch(prefix: "/w/", startRevision: start)
    let r1 = try await f.v3.put("/w/a", value: "1")
    try await f.v3.put("/elsewhere", value: "ignored")
    let r2 = try await f.v3.put("/w/a", value: "2")
    try await f.v3.delete("/w/a")
    let r4 = try await f.v3.get("/w/a").revision
    let got = try await collect(stream, count: 3)
    #expect(got.map(\.event.kind) == [.put, .put, .delete])
    #expect(got.map(\.event.kv.key) == ["/w/a", "/w/a", "/w/a"])
    #expect(got.map(\.event.kv.value) == ["1", "2", ""])
    #expect(got.map(\.event.kv.modRevision) == [r1, r2, r4])
    #expect(got[1].event.kv.version == 2)
    #expect(got[1].event.kv.createRevision == r1)
    #expect(got.allSatisfy { $0.revision >= $0.event.kv.modRevision })
  }

  @Test func compactedStartRevisionThrowsCompacted() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    var last: Int64 = 0
    for i in 0..<5 { last = try await f.v3.put("/c/\(i)", value: "v") }
    try await f.v3.compact(revision: last)
    await #expect {
      _ = try await collect(f.v3.watch(prefix: "/c/", startRevision: 2), count: 1)
    } throws: { error in
      guard case EtcdError.compacted(let revision) = error else { return false }
      return revision == last
    }
  }

  @Test func streamFailsWhenEtcdStopsAndResumesWithoutGapOrDouble() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let start = try await f.v3.put("/r/0", value: "before") + 1
    let stream = f.v3.watch(prefix: "/r/", startRevision: start)
    let r1 = try await f.v3.put("/r/1", value: "seen")
    var iterator = stream.makeAsyncIterator()
    var lastSeen: Int64 = 0
    while lastSeen < r1, let response = try await iterator.next() {
      lastSeen = response.events.last?.kv.modRevision ?? lastSeen
    }
    #expect(lastSeen == r1)

    try await offPool { f.etcd.stop(keepData: true) }
    await #expect(throws: EtcdError.self) {
      while try await iterator.next() != nil {}
    }
    try await offPool { try f.etcd.start() }
    try f.etcd.etcdctl(["put", "/r/2", "meanwhile"])
    try f.etcd.etcdctl(["put", "/r/3", "meanwhile"])

    let resumed = try await collect(
      f.v3.watch(prefix: "/r/", startRevision: lastSeen + 1), count: 2)
    #expect(resumed.map(\.event.kv.key) == ["/r/2", "/r/3"])
    #expect(resumed.map(\.event.kv.modRevision) == [r1 + 1, r1 + 2])
  }

  @Test func cancellingTheConsumerEndsTheWatchPromptly() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let started = AsyncStream.makeStream(of: Void.self)
    let consumer = Task {
      let stream = f.v3.watch(prefix: "/cancel/", startRevision: 1)
      for try await _ in stream { started.continuation.yield() }
    }
    try await f.v3.put("/cancel/x", value: "1")
    var iterator = started.stream.makeAsyncIterator()
    await iterator.next()  // the watch is live and delivering
    #expect(CurlMultiLoop.shared.activeCount(urlPrefix: f.etcd.endpoint + "/v3/watch") == 1)
    let took = await elapsed {
      consumer.cancel()
      _ = await consumer.result
    }
    #expect(took < .seconds(1))
    // The curl handle left the loop.
    #expect(
      await eventually(timeout: .seconds(2)) {
        CurlMultiLoop.shared.activeCount(urlPrefix: f.etcd.endpoint) == 0
      })
  }

  @Test func fiftyConcurrentWatchesAndUnaryCalls() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let start = try await f.v3.put("/many-w/seed", value: "x") + 1
    let watchers = 50
    try await withThrowingTaskGroup(of: Int64.self) { group in
      for _ in 0..<watchers {
        group.addTask {
          try await collect(f.v3.watch(prefix: "/many-w/", startRevision: start), count: 1)[0]
            .event.kv.modRevision
        }
      }
      // Unary calls still go through while 50 streams are open.
      for i in 0..<20 { try await f.v3.put("/unrelated/\(i)", value: "v") }
      let rev = try await f.v3.put("/many-w/key", value: "go")
      var seen = 0
      for try await r in group {
        #expect(r == rev)
        seen += 1
      }
      #expect(seen == watchers)
    }
  }
}
