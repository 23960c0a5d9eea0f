import Foundation
import TestSupport
import Testing

@testable import Etcd

@Suite struct AuthTests {
  @Test func v3TokenAuthAndReauthenticationAfterRestart() async throws {
    let etcd = try await offPool { try EtcdServer() }
    defer { etcd.stop() }
    try etcd.etcdctl(["user", "add", "root:pw"])
    try etcd.etcdctl(["user", "grant-role", "root", "root"])
    try etcd.etcdctl(["auth", "enable"])

    let anonymous = try EtcdV3Client(config: EtcdClientConfig(endpoints: [etcd.endpoint]))
    await #expect {
      _ = try await anonymous.get("/k")
    } throws: { error in
      guard case EtcdError.v3(_, let message) = error else { return false }
      return message.contains("user name is empty")
    }
    let wrong = try EtcdV3Client(
      config: EtcdClientConfig(endpoints: [etcd.endpoint], username: "root", password: "bad"))
    await #expect {
      _ = try await wrong.get("/k")
    } throws: { error in
      guard case EtcdError.v3(_, let message) = error else { return false }
      return message.contains("authentication failed")
    }

    let client = try EtcdV3Client(
      config: EtcdClientConfig(endpoints: [etcd.endpoint], username: "root", password: "pw"))
    let rev = try await client.put("/k", value: "v")
    #expect(try await client.get("/k").kv?.value == "v")
    let got = try await collect(client.watch(prefix: "/k", startRevision: rev), count: 1)
    #expect(got.first?.event.kv.value == "v")
    let firstToken = try #require(client.token.withLock { $0 })

    // etcd keeps simple tokens in memory: after a restart the held token is invalid and the
    // client must authenticate again by itself.
    try await offPool {
      etcd.stop(keepData: true)
      try etcd.start()
    }
    #expect(try await client.get("/k").kv?.value == "v")
    let secondToken = try #require(client.token.withLock { $0 })
    #expect(secondToken != firstToken)
  }

  @Test func v2BasicAuth() async throws {
    let etcd = try await offPool { try EtcdServer() }
    defer { etcd.stop() }
    // etcdctl v2 reads passwords from a terminal only, so auth is set up over the v2 auth API.
    let e = etcd.endpoint
    try Shell.run(
      "/usr/bin/curl",
      ["-sf", "-XPUT", "\(e)/v2/auth/users/root", "-d", #"{"user":"root","password":"pw"}"#])
    try Shell.run("/usr/bin/curl", ["-sf", "-XPUT", "\(e)/v2/auth/enable"])
    // Auth on, the guest role still may do everything until its rights are revoked.
    try Shell.run(
      "/usr/bin/curl",
      [
        "-sf", "-u", "root:pw", "-XPUT", "\(e)/v2/auth/roles/guest", "-d",
        #"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#,
      ])

    let client = try EtcdV2Client(
      config: EtcdClientConfig(endpoints: [e], username: "root", password: "pw"))
    let set = try await client.set("/k", value: "v")
    #expect(try await client.get("/k").node?.value == "v")
    #expect(
      try await client.watch("/k", recursive: false, waitIndex: set.etcdIndex).node?.value == "v")

    for (user, password) in [(nil, nil), ("root", "bad")] as [(String?, String?)] {
      let other = try EtcdV2Client(
        config: EtcdClientConfig(endpoints: [e], username: user, password: password))
      await #expect {
        _ = try await other.get("/k")
      } throws: { error in
        guard case EtcdError.v2(let v2) = error else { return false }
        return v2.errorCode == 110
      }
    }
  }
}
