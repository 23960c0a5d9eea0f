import Testing

@testable import Daemon

/// The health listener's request-head parsing: what decides the route, keep-alive and
/// whether a body is announced, and what is refused.
@Suite struct HTTPExchangeTests {
  static func parse(_ text: String) -> HTTPExchange.Request? {
    HTTPExchange.parse(head: Array(text.utf8))
  }

  @Test(arguments: [
    ("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/healthz", true, false),
    ("HEAD /readyz?verbose HTTP/1.1\r\n\r\n", "HEAD", "/readyz", true, false),
    ("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", "GET", "/healthz", false, false),
    (
      "GET /healthz HTTP/1.1\r\nconnection: Keep-Alive, Close\r\n\r\n", "GET", "/healthz", false,
      false
    ),
    ("GET /healthz HTTP/1.0\r\n\r\n", "GET", "/healthz", false, false),
    ("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "/healthz", true, false),
    ("POST /healthz HTTP/1.1\r\nContent-Length: 3\r\n\r\n", "POST", "/healthz", true, true),
    ("POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "POST", "/healthz", true, false),
    ("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", "/x", true, true),
    ("GET /metrics HTTP/1.1\nHost: a\n\n", "GET", "/metrics", true, false),
  ])
  func parsesTheHeadersThatMatter(
    text: String, method: String, path: String, keepAlive: Bool, hasBody: Bool
  ) throws {
    let request = try #require(Self.parse(text))
    #expect(request.method == method && request.path == path)
    #expect(request.keepAlive == keepAlive && request.hasBody == hasBody)
  }

  @Test(arguments: [
    "NOT AN HTTP REQUEST\r\n\r\n", "GET /healthz\r\n\r\n", "GET /healthz HTTP/2.0\r\n\r\n",
    "GET  /healthz HTTP/1.1\r\n\r\n", " /healthz HTTP/1.1\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", "GET /healthz HTTP/1.1\r\n: value\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nContent-Length: x\r\n\r\n", "", "\r\n\r\n",
    // Found by Scripts/fuzz.sh --target http: a target that is only a query has no path.
    "HEAD ?y HTTP/1.0\r\n\r\n",
  ])
  func refusesMalformedHeads(text: String) {
    #expect(Self.parse(text) == nil)
  }

  @Test func headEndsAfterTheBlankLine() {
    let head = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next".utf8)
    #expect(HTTPExchange.headEnd(head) == 27)
    #expect(HTTPExchange.headEnd(Array("GET / HTTP/1.1\n\nrest".utf8)) == 16)
    #expect(HTTPExchange.headEnd(Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)) == nil)
    #expect(HTTPExchange.headEnd([UInt8]()) == nil)
  }

  @Test func responsesSayWhetherTheConnectionStays() {
    let response = HTTPExchange.Response(status: 200, body: "ok")
    #expect(
      String(decoding: response.serialized(includeBody: true, keepAlive: true), as: UTF8.self)
        == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"
        + "Connection: keep-alive\r\n\r\nok")
    #expect(
      String(decoding: response.serialized(includeBody: false, keepAlive: false), as: UTF8.self)
        .hasSuffix("Content-Length: 2\r\nConnection: close\r\n\r\n"))
  }
}
