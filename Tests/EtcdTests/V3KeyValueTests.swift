import Etcd
import TestSupport
import Testing

@Suite struct V3KeyValueTests {
  @Test func putGetRangeDelete() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let r1 = try await f.v3.put("/net/subnets/10.1.1.0-24", value: "a")
    let r2 = try await f.v3.put("/net/subnets/10.1.2.0-24", value: "b")
    try await f.v3.put("/net/subnetsX", value: "outside")  // shares the prefix text only
    try await f.v3.put("/other", value: "c")
    #expect(r2 == r1 + 1)

    let (kv, rev) = try await f.v3.get("/net/subnets/10.1.1.0-24")
    #expect(kv?.value == "a")
    #expect(kv?.modRevision == r1)
    #expect(kv?.createRevision == r1)
    #expect(kv?.version == 1)
    #expect(rev == r2 + 2)
    #expect(try await f.v3.get("/missing").kv == nil)

    let range = try await f.v3.range(prefix: "/net/subnets/")
    #expect(range.kvs.map(\.key) == ["/net/subnets/10.1.1.0-24", "/net/subnets/10.1.2.0-24"])
    #expect(range.kvs.map(\.value) == ["a", "b"])
    #expect(range.revision == rev)

    #expect(try await f.v3.delete("/net/subnets/10.1.1.0-24") == 1)
    #expect(try await f.v3.delete("/net/subnets/10.1.1.0-24") == 0)
    #expect(
      try await f.v3.range(prefix: "/net/subnets/").kvs.map(\.key) == ["/net/subnets/10.1.2.0-24"])
    // A value written by etcdctl reads back identically (the base64 codec matches etcd's).
    try f.etcd.etcdctl(["put", "/net/config", #"{"Network":"10.1.0.0/16"}"#])
    #expect(try await f.v3.get("/net/config").kv?.value == #"{"Network":"10.1.0.0/16"}"#)
  }

  @Test func rangeReturnsAllOfManyKeys() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let count = 5000
    // Written 100 at a time concurrently: also exercises many requests in flight at once.
    try await withThrowingTaskGroup(of: Void.self) { group in
      for i in 0..<count {
        if i >= 100 { try await group.next() }
        group.addTask { try await f.v3.put("/many/\(i)", value: "v\(i)") }
      }
      try await group.waitForAll()
    }
    try await f.v3.put("/manz", value: "outside")
    let (kvs, _) = try await f.v3.range(prefix: "/many/")
    #expect(kvs.count == count)
    #expect(Set(kvs.map(\.key)) == Set((0..<count).map { "/many/\($0)" }))
    #expect(kvs.allSatisfy { $0.value == "v" + $0.key.dropFirst("/many/".count) })
    // In pages (the default reads everything at once): the same keys, at one revision.
    let (paged, _) = try await f.v3.range(prefix: "/many/", pageSize: 700)
    #expect(paged.map(\.key) == kvs.map(\.key))
  }

  @Test func createIfAbsentOnlyOnce() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    #expect(try await f.v3.createIfAbsent("/k", value: "first"))
    #expect(try await f.v3.createIfAbsent("/k", value: "second") == false)
    #expect(try await f.v3.get("/k").kv?.value == "first")
  }

  @Test func leaseGrantTimeToLiveRevoke() async throws {
    let f = try await EtcdFixture.start()
    defer { f.etcd.stop() }
    let lease = try await f.v3.grantLease(ttl: 60)
    #expect(lease.ttl == 60)
    #expect(lease.id != 0)
    let remaining = try await f.v3.leaseTimeToLive(lease.id)
    #expect(remaining != nil && remaining! > 50 && remaining! <= 60)

    try await f.v3.put("/leased", value: "x", lease: lease.id)
    #expect(try await f.v3.createIfAbsent("/leased2", value: "y", lease: lease.id))
    #expect(try await f.v3.get("/leased").kv?.lease == lease.id)
    try await f.v3.revokeLease(lease.id)
    #expect(try await f.v3.get("/leased").kv == nil)
    #expect(try await f.v3.get("/leased2").kv == nil)
    #expect(try await f.v3.leaseTimeToLive(lease.id) == nil)
    // Revoking again is an etcd error, reported as such.
    await #expect {
      try await f.v3.revokeLease(lease.id)
    } throws: { error in
      guard case EtcdError.v3(_, let message) = error else { return false }
      return message.contains("lease not found")
    }
  }
}
