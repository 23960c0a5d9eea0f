import Synchronization

/// Endpoint selection and failover shared by the v2 and v3 clients.
///
/// Each call starts at the endpoint that last answered and moves on when curl could not
/// complete the exchange (refused, timed out, TLS failure, connection dropped) before the
/// transfer showed a sign of life. HTTP-level answers, even errors, are returned as they are.
final class EtcdTransport: Sendable {
  let config: EtcdClientConfig
  let endpoints: [String]
  private let preferred = Mutex(0)
  private let loop = CurlMultiLoop.shared

  init(config: EtcdClientConfig) throws {
    let endpoints = config.endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    guard !endpoints.isEmpty else {
      throw EtcdError.unavailable(endpoints: [], lastError: "no etcd endpoints configured")
    }
    for e in endpoints where !(e.hasPrefix("http://") || e.hasPrefix("https://")) {
      throw EtcdError.unavailable(
        endpoints: endpoints, lastError: "etcd endpoint \(e) is not an http:// or https:// URL")
    }
    self.config = config
    self.endpoints = endpoints
  }

  /// A request to `endpoint + path` carrying this client's TLS files and timeouts.
  func request(
    _ endpoint: String, _ path: String, method: CurlRequest.Method, body: String? = nil,
    headers: [String] = [], streaming: Bool = false
  ) -> CurlRequest {
    var r = CurlRequest(url: endpoint + path, connectTimeout: config.connectTimeout)
    r.method = method
    r.body = body
    r.headers = headers
    r.caFile = config.caFile
    r.certFile = config.certFile
    r.keyFile = config.keyFile
    if streaming {
      r.readyTimeout = config.requestTimeout
      r.tcpKeepAlive = true
    } else {
      r.totalTimeout = config.requestTimeout
    }
    return r
  }

  /// Runs `make(endpoint)` against the endpoints in failover order. `what` names the operation
  /// for error texts ("etcd v3 range /a/"). `consumer` builds a fresh stream consumer per
  /// attempt.
  func perform(
    _ what: String, consumer: () -> (any CurlStreamConsumer)? = { nil },
    _ make: (String) -> CurlRequest
  ) async throws -> (endpoint: String, outcome: CurlOutcome) {
    let first = preferred.withLock { $0 }
    var lastError = "\(what): not attempted"
    for step in 0..<endpoints.count {
      if Task.isCancelled { throw EtcdError.cancelled }
      let index = (first + step) % endpoints.count
      let endpoint = endpoints[index]
      let outcome = await loop.run(CurlTransfer(request: make(endpoint), consumer: consumer()))
      if outcome.cancelled { throw EtcdError.cancelled }
      if outcome.code != 0 && !outcome.ready && !outcome.stoppedByConsumer {
        lastError = "\(what) at \(endpoint): \(outcome.errorText)"
        continue
      }
      preferred.withLock { $0 = index }
      return (endpoint, outcome)
    }
    throw EtcdError.unavailable(endpoints: endpoints, lastError: lastError)
  }
}
