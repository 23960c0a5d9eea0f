import Foundation
import Synchronization

/// A client for the etcd v3 JSON gateway (`/v3/...`): raw key/value, txn, lease and watch calls.
public final class EtcdV3Client: Sendable {
  let transport: EtcdTransport
  /// The auth token from `/v3/auth/authenticate`, when credentials are configured.
  let token = Mutex<String?>(nil)
  /// Range page size for listings; 0 = everything in one response, as stock flanneld reads it.
  /// etcd (3.4) walks every key from a page's start to the range end for each page, so pages
  /// make a listing quadratic: 20,000 leases took 0.81 s in pages of 1,000 and 0.39 s whole.
  public static let rangePageSize = 0

  public init(config: EtcdClientConfig) throws {
    transport = try EtcdTransport(config: config)
  }

  public func get(_ key: String) async throws -> (kv: EtcdKeyValue?, revision: Int64) {
    let r: V3RangeResponse = try await call("kv/range", ["key": key.base64], "etcd v3 get \(key)")
    return (r.kvs?.first?.model, r.header?.revision.orZero ?? 0)
  }

  /// All keys with `prefix`, read page by page at one revision.
  public func range(prefix: String, pageSize: Int = EtcdV3Client.rangePageSize) async throws
    -> (kvs: [EtcdKeyValue], revision: Int64)
  {
    let end = V3KeyRange.prefixEnd(prefix).base64
    var from = Array(prefix.utf8)
    var revision: Int64 = 0
    var all: [EtcdKeyValue] = []
    while true {
      var body: [String: Any] = ["key": from.base64, "range_end": end]
      if pageSize > 0 { body["limit"] = String(pageSize) }
      if revision != 0 { body["revision"] = String(revision) }
      let r: V3RangeResponse = try await call("kv/range", body, "etcd v3 range \(prefix)")
      if revision == 0 { revision = r.header?.revision.orZero ?? 0 }
      let page = r.kvs ?? []
      all += page.map(\.model)
      guard r.more == true, let last = page.last?.key, let lastKey = Data(base64Encoded: last)
      else { break }
      from = Array(lastKey) + [0]
    }
    return (all, revision)
  }

  @discardableResult
  public func put(_ key: String, value: String, lease: Int64 = 0) async throws -> Int64 {
    let body: [String: Any] = ["key": key.base64, "value": value.base64, "lease": String(lease)]
    let r: V3PutResponse = try await call("kv/put", body, "etcd v3 put \(key)")
    return r.header?.revision.orZero ?? 0
  }

  @discardableResult
  public func delete(_ key: String) async throws -> Int64 {
    let r: V3DeleteResponse = try await call(
      "kv/deleterange", ["key": key.base64], "etcd v3 delete \(key)")
    return r.deleted.orZero
  }

  /// Txn: if version(key) == 0 then put. Returns false when the key already existed.
  public func createIfAbsent(_ key: String, value: String, lease: Int64 = 0) async throws -> Bool {
    let body: [String: Any] = [
      "compare": [
        ["target": "VERSION", "result": "EQUAL", "key": key.base64, "version": "0"]
      ],
      "success": [
        ["request_put": ["key": key.base64, "value": value.base64, "lease": String(lease)]]
      ],
    ]
    let r: V3TxnResponse = try await call("kv/txn", body, "etcd v3 create \(key)")
    return r.succeeded ?? false
  }

  public func grantLease(ttl: Int64) async throws -> (id: Int64, ttl: Int64) {
    let what = "etcd v3 lease grant ttl \(ttl)"
    let r: V3LeaseGrantResponse = try await call("lease/grant", ["TTL": String(ttl)], what)
    if let error = r.error, !error.isEmpty { throw EtcdError.v3(code: 0, message: error) }
    guard let id = r.ID?.value else { throw EtcdError.malformed("\(what): no lease ID") }
    return (id, r.TTL.orZero)
  }

  public func revokeLease(_ id: Int64) async throws {
    let _: V3Empty = try await call(
      "lease/revoke", ["ID": String(id)], "etcd v3 lease revoke \(id)")
  }

  /// Remaining seconds of the lease, nil if it expired or was revoked.
  public func leaseTimeToLive(_ id: Int64) async throws -> Int64? {
    let r: V3LeaseTimeToLiveResponse
    do {
      r = try await call("lease/timetolive", ["ID": String(id)], "etcd v3 lease ttl \(id)")
    } catch EtcdError.v3(_, let message) where message.contains("lease not found") {
      return nil
    }
    let ttl = r.TTL.orZero
    return ttl < 0 ? nil : ttl
  }

  public func compact(revision: Int64) async throws {
    let body: [String: Any] = ["revision": String(revision), "physical": true]
    let _: V3Empty = try await call("kv/compaction", body, "etcd v3 compact \(revision)")
  }

  // MARK: - Plumbing

  /// POSTs `body` to `/v3/<path>` and decodes the answer; on an invalid token it
  /// re-authenticates once.
  func call<T: Decodable>(_ path: String, _ body: [String: Any], _ what: String) async throws -> T {
    let json = WireJSON.encode(body)
    var retriedAuth = false
    while true {
      let headers = try await authHeaders()
      let (endpoint, out) = try await transport.perform(what) { endpoint in
        transport.request(endpoint, "/v3/" + path, method: .post, body: json, headers: headers)
      }
      if out.status == 200 {
        return try WireJSON.decode(T.self, out.body, what: "\(what) at \(endpoint)")
      }
      let error = Self.gatewayError(endpoint: endpoint, out)
      if !retriedAuth, case .v3(_, let message) = error, Self.isStaleToken(message),
        transport.config.username != nil
      {
        retriedAuth = true
        clearToken()
        continue
      }
      throw error
    }
  }

  /// `Authorization: <token>`, authenticating first if credentials are configured and no token
  /// is held.
  func authHeaders() async throws -> [String] {
    guard let user = transport.config.username else { return [] }
    if let t = token.withLock({ $0 }) { return ["Authorization: \(t)"] }
    let json = WireJSON.encode(["name": user, "password": transport.config.password ?? ""])
    let what = "etcd v3 authenticate \(user)"
    let (endpoint, out) = try await transport.perform(what) { endpoint in
      transport.request(endpoint, "/v3/auth/authenticate", method: .post, body: json)
    }
    guard out.status == 200 else { throw Self.gatewayError(endpoint: endpoint, out) }
    let r = try WireJSON.decode(V3AuthenticateResponse.self, out.body, what: what)
    guard let t = r.token, !t.isEmpty else { throw EtcdError.malformed("\(what): no token") }
    token.withLock { $0 = t }
    return ["Authorization: \(t)"]
  }

  func clearToken() { token.withLock { $0 = nil } }

  static func isStaleToken(_ message: String) -> Bool {
    message.contains("invalid auth token") || message.contains("auth store is old")
  }

  static func gatewayError(endpoint: String, _ out: CurlOutcome) -> EtcdError {
    let decoder = JSONDecoder()
    if let e = try? decoder.decode(V3GatewayError.self, from: Data(out.body)),
      let message = e.message ?? e.error
    {
      return .v3(code: e.code ?? 0, message: message)
    }
    return .http(endpoint: endpoint, status: out.status, body: out.bodyText)
  }
}
