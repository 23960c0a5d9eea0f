import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `GET /health` against an etcd on loopback, answered true only for a 200 whose body says
/// `"health":"true"` (etcd answers 503 until it has a leader).
enum HealthProbe {
  static func isHealthy(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    // One second for connect, send and each read, as `curl -m 1` allowed.
    var timeout = timeval(tv_sec: 1, tv_usec: 0)
    let size = socklen_t(MemoryLayout<timeval>.size)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, size)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, size)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { return false }
    let request = Array("GET /health HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count
    else { return false }
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 2048)
    while answer.count < 16_384 {
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      answer += chunk[0..<n]
    }
    let text = String(decoding: answer, as: UTF8.self)
    return isHealthyAnswer(text)
  }

  /// The status line says 200 and the JSON body says healthy.
  static func isHealthyAnswer(_ text: String) -> Bool {
    guard let statusLine = text.split(separator: "\r\n", maxSplits: 1).first else { return false }
    let parts = statusLine.split(separator: " ")
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1] == "200" else { return false }
    return text.replacingOccurrences(of: " ", with: "").contains(#""health":"true""#)
  }
}
