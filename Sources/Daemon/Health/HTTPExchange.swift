/// The little of HTTP/1.1 the health listener needs: the request line, and a complete
/// response with Content-Length and `Connection: close` (one request per connection).
enum HTTPExchange {
  struct Request: Equatable {
    var method: String
    /// The path without its query string.
    var path: String
  }

  struct Response: Equatable {
    var status: Int
    var contentType = "text/plain; charset=utf-8"
    var body: String
    var extraHeaders: [(String, String)] = []

    static func == (a: Response, b: Response) -> Bool {
      a.status == b.status && a.contentType == b.contentType && a.body == b.body
        && a.extraHeaders.elementsEqual(b.extraHeaders, by: ==)
    }

    func serialized(includeBody: Bool) -> [UInt8] {
      var head = "HTTP/1.1 \(status) \(HTTPExchange.reason(status))\r\n"
      head += "Content-Type: \(contentType)\r\n"
      head += "Content-Length: \(body.utf8.count)\r\n"
      for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
      head += "Connection: close\r\n\r\n"
      return Array(head.utf8) + (includeBody ? Array(body.utf8) : [])
    }
  }

  /// The request line of a request head (bytes up to the blank line), nil if malformed.
  static func parse(head: [UInt8]) -> Request? {
    guard let end = head.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
    var line = head[..<end]
    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
    let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
    guard parts.count == 3, parts[2].starts(with: Array("HTTP/1.".utf8)), !parts[0].isEmpty
    else { return nil }
    let target = String(decoding: parts[1], as: UTF8.self)
    let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
    return Request(method: String(decoding: parts[0], as: UTF8.self), path: String(path))
  }

  static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 503: return "Service Unavailable"
    default: return "Status"
    }
  }
}
