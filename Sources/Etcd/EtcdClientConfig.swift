/// Where and how to reach etcd: endpoints tried in turn, TLS files, credentials and timeouts.
public struct EtcdClientConfig: Sendable {
  /// Base URLs such as `http://127.0.0.1:2379`; the last one that answered is tried first.
  public var endpoints: [String]
  /// PEM CA bundle used to verify the server (CURLOPT_CAINFO).
  public var caFile: String?
  /// PEM client certificate (CURLOPT_SSLCERT).
  public var certFile: String?
  /// PEM client key (CURLOPT_SSLKEY).
  public var keyFile: String?
  /// v2: HTTP basic auth; v3: `/v3/auth/authenticate` for a token.
  public var username: String?
  public var password: String?
  /// Total time for one unary request at one endpoint, and the time a stream has to show a
  /// sign of life (response headers, or the v3 "created" message) before it fails over.
  public var requestTimeout: Duration
  /// Time allowed for the TCP (and TLS) connect to one endpoint.
  public var connectTimeout: Duration

  public init(
    endpoints: [String], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
    username: String? = nil, password: String? = nil, requestTimeout: Duration = .seconds(5),
    connectTimeout: Duration = .seconds(2)
  ) {
    self.endpoints = endpoints
    self.caFile = caFile
    self.certFile = certFile
    self.keyFile = keyFile
    self.username = username
    self.password = password
    self.requestTimeout = requestTimeout
    self.connectTimeout = connectTimeout
  }
}

extension Duration {
  /// Whole milliseconds, at least 1, for curl's `_MS` options.
  var curlMilliseconds: Int {
    let (s, atto) = components
    return max(1, Int(s) * 1000 + Int(atto / 1_000_000_000_000_000))
  }
}
