import Daemon
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// READY=1 lands on a datagram socket the test owns, under a path or an abstract name.
@Suite struct SystemdNotifierTests {
  /// Binds an AF_UNIX datagram socket; `name` starting with @ is abstract.
  static func bindDatagram(_ name: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    try #require(fd >= 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var bytes = Array(name.utf8)
    let abstract = bytes.first == UInt8(ascii: "@")
    if abstract { bytes[0] = 0 }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    let length =
      MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
    }
    try #require(bound == 0, "bind \(name): \(String(cString: strerror(errno)))")
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
  }

  static func receive(_ fd: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = recv(fd, &buffer, buffer.count, 0)
    return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
  }

  @Test func abstractSocket() throws {
    let name = "@swift-flannel-test-\(UUID().uuidString)"
    let fd = try Self.bindDatagram(name)
    defer { close(fd) }
    #expect(try SystemdNotifier.notify("READY=1", environment: ["NOTIFY_SOCKET": name]))
    #expect(Self.receive(fd) == "READY=1")
  }

  @Test func pathSocket() throws {
    let path = "/tmp/sf-notify-\(UInt32.random(in: 0...UInt32.max)).sock"
    let fd = try Self.bindDatagram(path)
    defer {
      close(fd)
      unlink(path)
    }
    #expect(try SystemdNotifier.notify("READY=1", environment: ["NOTIFY_SOCKET": path]))
    #expect(Self.receive(fd) == "READY=1")
  }

  @Test func unsetIsANoOp() throws {
    #expect(try !SystemdNotifier.notify("READY=1", environment: [:]))
    #expect(try !SystemdNotifier.notify("READY=1", environment: ["NOTIFY_SOCKET": ""]))
  }

  @Test func nobodyListeningIsAnError() {
    let error = #expect(throws: SystemdNotifyError.self) {
      try SystemdNotifier.notify(
        "READY=1", environment: ["NOTIFY_SOCKET": "@swift-flannel-nobody-\(UUID().uuidString)"])
    }
    #expect(error?.description.contains("Connection refused") == true)
    #expect(throws: SystemdNotifyError.self) {
      try SystemdNotifier.notify("READY=1", environment: ["NOTIFY_SOCKET": "relative.sock"])
    }
  }
}
