/// The little of HTTP/1.1 the health listener needs: a request head (request line and the
/// headers that decide keep-alive and bodies), and a complete response with Content-Length.
enum HTTPExchange {
  struct Request: Equatable, Sendable {
    var method: String
    /// The path without its query string.
    var path: String
    /// The connection stays open after the answer (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    var keepAlive = true
    /// It announces a body (Content-Length > 0 or Transfer-Encoding): no route takes one,
    /// so the connection is closed after the answer instead of reading it.
    var hasBody = false

    /// `target` as sent on the request line ("/readyz?verbose" → "/readyz").
    init(method: String, target: String, keepAlive: Bool = true, hasBody: Bool = false) {
      self.method = method
      self.path = String(
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
      self.keepAlive = keepAlive
      self.hasBody = hasBody
    }
  }

  struct Response: Equatable, Sendable {
    var status: Int
    var contentType = "text/plain; charset=utf-8"
    var body: String
    var extraHeaders: [(String, String)] = []

    static func == (a: Response, b: Response) -> Bool {
      a.status == b.status && a.contentType == b.contentType && a.body == b.body
        && a.extraHeaders.elementsEqual(b.extraHeaders, by: ==)
    }

    func serialized(includeBody: Bool, keepAlive: Bool) -> [UInt8] {
      var head = "HTTP/1.1 \(status) \(HTTPExchange.reason(status))\r\n"
      head += "Content-Type: \(contentType)\r\n"
      head += "Content-Length: \(body.utf8.count)\r\n"
      for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
      head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
      return Array(head.utf8) + (includeBody ? Array(body.utf8) : [])
    }
  }

  /// Where the head in `bytes` ends (the index after its blank line), nil while incomplete.
  /// Bare LF line ends are accepted as Go's server does.
  static func headEnd<C: RandomAccessCollection>(_ bytes: C) -> C.Index?
  where C.Element == UInt8 {
    var index = bytes.startIndex
    var previousWasLF = false
    while index != bytes.endIndex {
      let byte = bytes[index]
      index = bytes.index(after: index)
      if byte == UInt8(ascii: "\n") {
        if previousWasLF { return index }
        previousWasLF = true
      } else if byte != UInt8(ascii: "\r") {
        previousWasLF = false
      }
    }
    return nil
  }

  /// A request head (bytes up to and including the blank line), nil if malformed.
  static func parse<C: Collection>(head: C) -> Request? where C.Element == UInt8 {
    var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
      .map { $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0[...] }
    while lines.last?.isEmpty == true { lines.removeLast() }
    guard let requestLine = lines.first else { return nil }
    let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
    guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
      parts[0].allSatisfy({ $0 > 32 && $0 < 127 }),
      parts[2].allSatisfy({ $0 < 128 })
    else { return nil }
    let version = String(decoding: parts[2], as: UTF8.self)
    guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return nil }
    var connection: [String] = []
    var hasBody = false
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex
      else { return nil }
      let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
      let value = trimmed(String(decoding: line[line.index(after: colon)...], as: UTF8.self))
      switch name {
      case "connection":
        connection += value.lowercased().split(separator: ",").map { trimmed(String($0)) }
      case "content-length":
        guard let length = Int(value), length >= 0 else { return nil }
        hasBody = hasBody || length > 0
      case "transfer-encoding":
        hasBody = true
      default:
        break
      }
    }
    let keepAlive =
      version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
    let request = Request(
      method: String(decoding: parts[0], as: UTF8.self),
      target: String(decoding: parts[1], as: UTF8.self), keepAlive: keepAlive, hasBody: hasBody)
    // A target that is only a query ("?x") has no path: Go's server answers 400.
    return request.path.isEmpty ? nil : request
  }

  /// Without the spaces and tabs around it (HTTP's optional whitespace).
  static func trimmed(_ text: String) -> String {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = text.firstIndex(where: { !blank($0) }),
      let last = text.lastIndex(where: { !blank($0) })
    else { return "" }
    return String(text[first...last])
  }

  static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 431: return "Request Header Fields Too Large"
    case 503: return "Service Unavailable"
    default: return "Status"
    }
  }
}
