import Testing

@testable import Daemon

/// /debug/ pages: a backend's status text on the health port, 404 until it exists.
@Suite struct HealthDebugPagesTests {
  @Test func pagesAnswerOnceTheBackendSetsThem() {
    let pages = DebugPages()
    let routes = HealthRoutes(metrics: nil, debugPage: pages.page)
    let get = HTTPExchange.Request(method: "GET", target: "/debug/wireguard")
    #expect(routes.respond(to: get, ready: true).status == 404, "no backend yet")
    pages.set(["/debug/wireguard": { "interface: flannel-wg\n" }])
    let answer = routes.respond(to: get, ready: true)
    #expect(answer.status == 200)
    #expect(answer.body == "interface: flannel-wg\n")
    #expect(answer.contentType == HealthRoutes.debugContentType)
    #expect(
      routes.respond(to: .init(method: "GET", target: "/debug/other"), ready: true).status == 404)
    #expect(
      routes.respond(to: .init(method: "POST", target: "/debug/wireguard"), ready: true).status
        == 405)
    #expect(HealthRoutes.rendersOffThread("/debug/wireguard"))
    #expect(!HealthRoutes.rendersOffThread("/healthz"))
  }
}
