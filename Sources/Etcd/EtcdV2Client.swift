import Foundation

/// A client for the etcd v2 keys API (`/v2/keys<key>`), with HTTP basic auth when credentials
/// are configured.
public final class EtcdV2Client: Sendable {
  let transport: EtcdTransport

  public init(config: EtcdClientConfig) throws {
    transport = try EtcdTransport(config: config)
  }

  public func get(_ key: String, recursive: Bool = false, quorum: Bool = true) async throws
    -> EtcdV2Response
  {
    var query: [(String, String)] = []
    if recursive { query.append(("recursive", "true")) }
    if quorum { query.append(("quorum", "true")) }
    return try await send("etcd v2 get \(key)", key, .get, query: query)
  }

  /// PUT `value`; `ttl` makes the key expire, `prevExist` false means create-only and true
  /// update-only.
  @discardableResult
  public func set(_ key: String, value: String, ttl: Int64? = nil, prevExist: Bool? = nil)
    async throws -> EtcdV2Response
  {
    var form: [(String, String)] = [("value", value)]
    if let ttl { form.append(("ttl", String(ttl))) }
    if let prevExist { form.append(("prevExist", prevExist ? "true" : "false")) }
    return try await send("etcd v2 set \(key)", key, .put, form: form)
  }

  @discardableResult
  public func delete(_ key: String) async throws -> EtcdV2Response {
    try await send("etcd v2 delete \(key)", key, .delete)
  }

  /// One long poll: the first event on `key` (or below it, with `recursive`) at or after
  /// `waitIndex`. No total timeout; the response headers must arrive within `requestTimeout`
  /// (etcd sends them at once) or the next endpoint is tried. Cancel the task to stop waiting.
  public func watch(_ key: String, recursive: Bool, waitIndex: UInt64) async throws
    -> EtcdV2Response
  {
    var query = [("wait", "true"), ("waitIndex", String(waitIndex))]
    if recursive { query.append(("recursive", "true")) }
    return try await send(
      "etcd v2 watch \(key) from index \(waitIndex)", key, .get, query: query, longPoll: true)
  }

  private func send(
    _ what: String, _ key: String, _ method: CurlRequest.Method, query: [(String, String)] = [],
    form: [(String, String)]? = nil, longPoll: Bool = false
  ) async throws -> EtcdV2Response {
    var path = "/v2/keys" + V2Form.path(key)
    if !query.isEmpty { path += "?" + V2Form.pairs(query) }
    let body = form.map(V2Form.pairs)
    let config = transport.config
    let (endpoint, out) = try await transport.perform(what) { endpoint in
      var r = transport.request(
        endpoint, path, method: method, body: body,
        headers: body == nil ? [] : ["Content-Type: application/x-www-form-urlencoded"],
        streaming: longPoll)
      r.readyOnHeaders = longPoll
      if let user = config.username { r.basicAuth = (user, config.password ?? "") }
      return r
    }
    if out.code != 0 {
      // Only a long poll gets here: the connection broke after etcd had answered the headers.
      throw EtcdError.unavailable(
        endpoints: [endpoint], lastError: "\(what) at \(endpoint): \(out.errorText)")
    }
    let index = out.headers["x-etcd-index"].flatMap { UInt64($0) } ?? 0
    if (200..<300).contains(out.status) {
      return try EtcdV2Response.decode(out.body, etcdIndex: index, what: "\(what) at \(endpoint)")
    }
    if let error = EtcdV2Error.decode(out.body, key: key, etcdIndex: index) {
      throw EtcdError.v2(error)
    }
    throw EtcdError.http(endpoint: endpoint, status: out.status, body: out.bodyText)
  }
}
