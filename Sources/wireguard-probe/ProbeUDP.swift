@preconcurrency import Glibc

/// A blocking UDP socket for the probe: bound to one address, sends to one peer, receives
/// with a deadline. Test tool only (the data plane has its own sockets).
final class ProbeUDP {
  let fd: Int32
  let peer: sockaddr_in

  init(bind local: String, peer remote: String) throws(ProbeError) {
    let localAddress = try Self.address(local)
    peer = try Self.address(remote)
    fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw ProbeError("socket: \(String(cString: strerror(errno)))") }
    var bound = localAddress
    let result = withUnsafePointer(to: &bound) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard result == 0 else {
      close(fd)
      throw ProbeError("bind \(local): \(String(cString: strerror(errno)))")
    }
  }

  deinit { close(fd) }

  func send(_ bytes: [UInt8]) throws(ProbeError) {
    var destination = peer
    let sent = bytes.withUnsafeBytes { data in
      withUnsafePointer(to: &destination) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(fd, data.baseAddress, data.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    }
    guard sent == bytes.count else {
      throw ProbeError("sendto: \(String(cString: strerror(errno)))")
    }
  }

  /// The next datagram whose first byte is `type`, within `seconds`; others are skipped.
  func receive(type: UInt8, seconds: Int32) throws(ProbeError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 65536)
    var deadline = timespec()
    clock_gettime(CLOCK_MONOTONIC, &deadline)
    let end =
      Int64(deadline.tv_sec) * 1000 + Int64(deadline.tv_nsec) / 1_000_000 + Int64(seconds) * 1000
    while true {
      var now = timespec()
      clock_gettime(CLOCK_MONOTONIC, &now)
      let left = end - (Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000)
      guard left > 0 else { throw ProbeError("no message of type \(type) within \(seconds) s") }
      var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&entry, 1, Int32(left)) > 0 else { continue }
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      guard count > 0 else { continue }
      if buffer[0] == type { return Array(buffer[0..<count]) }
    }
  }

  private static func address(_ text: String) throws(ProbeError) -> sockaddr_in {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let port = UInt16(parts[1]) else {
      throw ProbeError("\(text): want ip:port")
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    guard inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1 else {
      throw ProbeError("\(text): not an IPv4 address")
    }
    return address
  }
}

struct ProbeError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
