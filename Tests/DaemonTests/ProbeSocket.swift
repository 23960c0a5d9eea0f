import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One HTTP response as a client read it off the wire.
struct ProbeReply {
  var status: Int
  /// Header names lowercased.
  var headers: [String: String]
  var body: String
}

/// A plain non-blocking TCP client on 127.0.0.1, for driving the health listener the way
/// idle, slow and well-behaved clients do. Not curl: the timings must not include starting a
/// process, and a misbehaving client must be able to stop half-way through a request.
final class ProbeSocket: Sendable {
  let fd: Int32
  let connectedAt: ContinuousClock.Instant
  /// Bytes read past the last reply (pipelined answers can arrive in one segment).
  private let leftover = Mutex<[UInt8]>([])

  init(fd: Int32, connectedAt: ContinuousClock.Instant) {
    self.fd = fd
    self.connectedAt = connectedAt
  }

  /// Connects, waiting at most `timeout`; nil when the connection does not complete in time
  /// (a listener whose backlog is full drops the SYN).
  static func connect(port: Int, timeout: Duration) -> ProbeSocket? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let started = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    if started != 0 && errno != EINPROGRESS {
      Glibc.close(fd)
      return nil
    }
    if started != 0 {
      var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      var error: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      guard poll(&entry, 1, Self.milliseconds(timeout)) == 1,
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0
      else {
        Glibc.close(fd)
        return nil
      }
    }
    return ProbeSocket(fd: fd, connectedAt: .now)
  }

  func close() { _ = Glibc.close(fd) }

  /// Sends all of `bytes` (they are small; loopback takes them at once). False once the
  /// server has closed the connection.
  @discardableResult
  func send(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      == bytes.count
  }

  @discardableResult
  func send(_ text: String) -> Bool { send(Array(text.utf8)) }

  /// Reads one response (head and Content-Length body) before `deadline`; nil if it did not
  /// arrive complete by then or the connection closed first.
  func readReply(by deadline: ContinuousClock.Instant) -> ProbeReply? {
    var received = leftover.withLock { $0 }
    defer { leftover.withLock { [received] in $0 = received } }
    while true {
      if let (reply, length) = Self.parse(received) {
        received.removeFirst(length)
        return reply
      }
      guard wait(for: POLLIN, until: deadline) else { return nil }
      var chunk = [UInt8](repeating: 0, count: 16384)
      let count = recv(fd, &chunk, chunk.count, 0)
      if count > 0 {
        received += chunk[..<count]
      } else if count == 0 || errno != EAGAIN {
        guard let (reply, length) = Self.parse(received) else { return nil }
        received.removeFirst(length)
        return reply
      }
    }
  }

  /// True once the server has closed the connection (end of stream or a reset); polls until
  /// `deadline`. Bytes the server sent first are read and dropped.
  func closed(by deadline: ContinuousClock.Instant) -> Bool {
    while true {
      if isClosedNow() { return true }
      guard wait(for: POLLIN, until: deadline) else { return false }
    }
  }

  /// Non-blocking look: has the server closed it?
  func isClosedNow() -> Bool {
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
      if count > 0 { continue }
      return count == 0 || errno != EAGAIN
    }
  }

  private func wait(for events: Int32, until deadline: ContinuousClock.Instant) -> Bool {
    let left = deadline - .now
    guard left > .zero else { return false }
    var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
    return poll(&entry, 1, max(1, Self.milliseconds(left))) == 1
  }

  static func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
  }

  /// The first complete response in `bytes` and how many bytes it took, or nil while there
  /// is none.
  static func parse(_ bytes: [UInt8]) -> (ProbeReply, Int)? {
    let blank: [UInt8] = [13, 10, 13, 10]
    guard bytes.count >= 4,
      let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<$0 + 4].elementsEqual(blank) })
    else { return nil }
    let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
        .trimmingCharacters(in: .whitespaces)
    }
    let body = bytes[(end + 4)...]
    let length = headers["content-length"].flatMap { Int($0) } ?? 0
    guard body.count >= length else { return nil }
    let reply = ProbeReply(
      status: status, headers: headers,
      body: String(decoding: body.prefix(length), as: UTF8.self))
    return (reply, end + 4 + length)
  }
}
