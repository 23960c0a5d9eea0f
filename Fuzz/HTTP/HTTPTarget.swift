@testable import Daemon

/// The probe port's request-head reader (`HTTPExchange`) on arbitrary bytes, as a client
/// sends them: the head ends at the first blank line and nowhere else; a head that parses
/// names a method of visible ASCII and a path without its query; a request written back from
/// what was parsed parses to the same request. Generated heads parse exactly.
enum HTTPTarget: ParserTarget {
  static let name = "http"
  static let requiredChecks = ["parsed head round trip", "generated head"]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = Array(bytes)
    if let end = HTTPExchange.headEnd(input) {
      checkHeadEnd(input, end)
      if let request = HTTPExchange.parse(head: input[..<end]) {
        require(
          !request.method.isEmpty && request.method.utf8.allSatisfy { $0 > 32 && $0 < 127 },
          "method \(request.method) of \(input)")
        require(!request.path.contains("?"), "path \(request.path) keeps its query")
        let again = HTTPExchange.parse(head: Array(head(for: request).utf8))
        require(again == request, "\(request) written back parses as \(String(describing: again))")
        Checks.count("parsed head round trip")
      }
    }
    var generated = FuzzInput(bytes)
    let methods = ["GET", "HEAD", "POST", "PUT", "DELETE"]
    let paths = ["/healthz", "/readyz", "/metrics", "/", "/x?y=1"]
    let request = HTTPExchange.Request(
      method: methods[Int(generated.byte()) % methods.count],
      target: paths[Int(generated.byte()) % paths.count],
      keepAlive: generated.byte() & 1 == 0, hasBody: generated.byte() & 1 == 1)
    let text = head(for: request)
    require(HTTPExchange.headEnd(Array(text.utf8)) == text.utf8.count, "head end of \(text)")
    require(HTTPExchange.parse(head: Array(text.utf8)) == request, "\(text) parses differently")
    Checks.count("generated head")
  }

  /// HTTP/1.1 with the Connection and Content-Length headers that carry `request`'s flags.
  static func head(for request: HTTPExchange.Request) -> String {
    "\(request.method) \(request.path) HTTP/1.1\r\nHost: flanneld\r\n"
      + "Connection: \(request.keepAlive ? "keep-alive" : "close")\r\n"
      + (request.hasBody ? "Content-Length: 3\r\n" : "") + "\r\n"
  }

  /// `end` is just past the first blank line (LF LF or LF CR LF), and there is no earlier one.
  static func checkHeadEnd(_ input: [UInt8], _ end: Int) {
    require(end >= 2 && end <= input.count, "head end \(end) of \(input.count) bytes")
    require(input[end - 1] == UInt8(ascii: "\n"), "head end \(end) is not after a line feed")
    var previousWasLF = false
    for (index, byte) in input[..<(end - 1)].enumerated() {
      if byte == UInt8(ascii: "\n") {
        require(!previousWasLF, "a blank line at \(index) before the head end \(end)")
        previousWasLF = true
      } else if byte != UInt8(ascii: "\r") {
        previousWasLF = false
      }
    }
    require(previousWasLF, "no line feed before the blank line at \(end)")
  }
}
