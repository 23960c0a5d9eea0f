/// What each path answers (flannel-behaviour §8.3; stock texts, no trailing newline).
struct HealthRoutes: Sendable {
  static let healthyText = "flanneld is running"
  static let readyText = "flanneld is ready"
  static let notReadyText = "flanneld is not ready yet"
  static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

  static let debugContentType = "text/plain; charset=utf-8"

  let metrics: (@Sendable () -> String)?
  /// Text pages under /debug/ (a backend's status, e.g. /debug/wireguard): the body for a
  /// path, nil when there is no such page.
  var debugPage: (@Sendable (String) -> String?)? = nil

  /// Paths answered off the listener thread (they take locks the data plane publishes under).
  static func rendersOffThread(_ path: String) -> Bool {
    path == "/metrics" || path.hasPrefix("/debug/")
  }

  func respond(to request: HTTPExchange.Request, ready: Bool) -> HTTPExchange.Response {
    let page = request.path.hasPrefix("/debug/") ? debugPage?(request.path) : nil
    let known = ["/healthz", "/readyz"] + (metrics == nil ? [] : ["/metrics"])
    guard known.contains(request.path) || page != nil else {
      // Go's http.NotFound text.
      return .init(status: 404, body: "404 page not found\n")
    }
    guard request.method == "GET" || request.method == "HEAD" else {
      return .init(
        status: 405, body: "Method Not Allowed\n", extraHeaders: [("Allow", "GET, HEAD")])
    }
    switch request.path {
    case "/healthz":
      return .init(status: 200, body: Self.healthyText)
    case "/readyz":
      return ready
        ? .init(status: 200, body: Self.readyText) : .init(status: 503, body: Self.notReadyText)
    case _ where page != nil:
      return .init(status: 200, contentType: Self.debugContentType, body: page!)
    default:
      return .init(status: 200, contentType: Self.metricsContentType, body: metrics!())
    }
  }
}
