/// One HTTP exchange to one endpoint, described as plain data so it can cross to the curl
/// thread.
struct CurlRequest: Sendable {
  enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", delete = "DELETE" }

  var url: String
  var method: Method = .get
  var body: String?
  var headers: [String] = []
  /// Total time allowed (unary calls); nil for streams, which are supervised by `readyTimeout`.
  var totalTimeout: Duration?
  var connectTimeout: Duration
  /// A stream that has not been marked ready this long after it started is aborted.
  var readyTimeout: Duration?
  /// Mark the transfer ready once the final response headers arrived (v2 long poll).
  var readyOnHeaders = false
  var tcpKeepAlive = false
  var caFile: String?
  var certFile: String?
  var keyFile: String?
  var basicAuth: (user: String, password: String)?
}

/// How one transfer ended.
struct CurlOutcome: Sendable {
  /// CURLcode as an integer; 0 means the HTTP exchange completed.
  var code: Int = 0
  var errorText = ""
  var status = 0
  /// Response headers, names lowercased.
  var headers: [String: String] = [:]
  /// The body, unless a stream consumer took it.
  var body: [UInt8] = []
  /// The stream had shown a sign of life (see `CurlRequest.readyTimeout`).
  var ready = false
  var cancelled = false
  /// The stream consumer stopped the transfer on purpose (its verdict is in its own state).
  var stoppedByConsumer = false

  var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Receives the body of a successful (HTTP 200) streaming transfer on the curl thread, chunk by
/// chunk. Returns false to stop the transfer.
protocol CurlStreamConsumer: AnyObject, Sendable {
  func consume(_ chunk: UnsafeRawBufferPointer, transfer: CurlTransfer) -> Bool
}
