/// What each path answers (flannel-behaviour §8.3; stock texts, no trailing newline).
struct HealthRoutes: Sendable {
  static let healthyText = "flanneld is running"
  static let readyText = "flanneld is ready"
  static let notReadyText = "flanneld is not ready yet"
  static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

  let metrics: (@Sendable () -> String)?

  func respond(to request: HTTPExchange.Request, ready: Bool) -> HTTPExchange.Response {
    let known = ["/healthz", "/readyz"] + (metrics == nil ? [] : ["/metrics"])
    guard known.contains(request.path) else {
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
    default:
      return .init(status: 200, contentType: Self.metricsContentType, body: metrics!())
    }
  }
}
