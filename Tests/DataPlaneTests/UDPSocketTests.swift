import Foundation
import Testing

@testable import DataPlane

#if canImport(Glibc)
  import Glibc
#endif

/// The socket's descriptor ownership and its error texts, on loopback (no namespace needed).
@Suite struct UDPSocketTests {
  let loopback: UInt32 = 0x7f00_0001

  private func isOpen(_ descriptor: Int32) -> Bool { fcntl(descriptor, F_GETFD) != -1 }

  private func openDescriptors() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
  }

  /// `close()` closes now; the number may then be reused by anyone, and neither a second
  /// `close()` nor the socket's release closes it again. (Tests run in parallel: the number is
  /// taken back with F_DUPFD, which never takes it from another test; the test tries again if
  /// one got it first.)
  @Test func closeClosesOnce() throws {
    for _ in 0..<100 {
      var socket: UDPSocket? = try UDPSocket(address: loopback, port: 0, bufferSize: 0)
      let fd = try #require(socket?.fd)
      #expect(isOpen(fd))
      socket?.close()
      let reused = fcntl(2, F_DUPFD_CLOEXEC, fd)
      guard reused == fd else {
        close(reused)
        continue
      }
      socket?.close()
      socket = nil
      #expect(isOpen(fd), "a second close hit the number's new owner")
      close(fd)
      return
    }
    Issue.record("the freed number was always taken by another test first")
  }

  /// Released, the socket frees its port: binding it again (without SO_REUSEPORT) works.
  @Test func releaseCloses() throws {
    var socket: UDPSocket? = try UDPSocket(address: loopback, port: 0, bufferSize: 0)
    let port = try #require(socket?.port)
    #expect(throws: DataPlaneError.self) { try UDPSocket(address: loopback, port: port) }
    socket = nil
    #expect(throws: Never.self) { try UDPSocket(address: loopback, port: port, bufferSize: 0) }
  }

  /// A refused bind names the call, the socket and the errno, and leaves no descriptor open
  /// (checked over many attempts, so that descriptors of tests running alongside do not count).
  @Test func refusedBindNamesCallObjectAndErrnoAndClosesTheDescriptor() throws {
    let first = try UDPSocket(address: loopback, port: 0, bufferSize: 0)
    let attempts = 200
    let before = try openDescriptors()
    for _ in 0..<attempts {
      let error = #expect(throws: DataPlaneError.self) {
        _ = try UDPSocket(address: loopback, port: first.port, bufferSize: 0)
      }
      #expect(error?.description == "bind udp 127.0.0.1:\(first.port): Address already in use")
      #expect(error?.errno == EADDRINUSE)
    }
    #expect(try openDescriptors() - before < attempts / 2)
  }
}
