import SystemCalls
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct OwnedDescriptorTests {
  private func isOpen(_ descriptor: Int32) -> Bool { fcntl(descriptor, F_GETFD) != -1 }

  /// A connected pair: the peer of a closed end sees EPIPE, whatever tests running alongside
  /// do with the freed number.
  private func pair() -> (Int32, Int32) {
    var ends: [Int32] = [0, 0]
    #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
    return (ends[0], ends[1])
  }

  private func peerIsClosed(_ end: Int32) -> Bool {
    var byte: UInt8 = 0
    return send(end, &byte, 1, Int32(MSG_NOSIGNAL)) == -1 && errno == EPIPE
  }

  @Test func theEndOfTheOwnersScopeCloses() {
    let (first, second) = pair()
    let kept = OwnedDescriptor(second)
    do {
      let owned = OwnedDescriptor(first)
      #expect(isOpen(owned.rawValue))
      #expect(!peerIsClosed(kept.rawValue))
    }
    #expect(peerIsClosed(kept.rawValue))
  }

  @Test func closeClosesNow() {
    let (first, second) = pair()
    let kept = OwnedDescriptor(second)
    let owned = OwnedDescriptor(first)
    owned.close()
    #expect(peerIsClosed(kept.rawValue))
  }

  /// After `close()` the number is free; when something else takes it, nothing closes it a
  /// second time — not the end of the scope, nor an owner that let go of it. (Tests run in
  /// parallel: the number is taken back with F_DUPFD, which never takes it from another test.)
  @Test func closeClosesOnceAndNeverAgain() {
    for _ in 0..<100 {
      var ends: [Int32] = [0, 0]
      #expect(pipe(&ends) == 0)
      let writing = OwnedDescriptor(ends[1])
      var taken: Int32 = -1
      do {
        var holder: OwnedDescriptor? = OwnedDescriptor(ends[0])
        holder.take()?.close()
        // Someone else's descriptor now has the same number.
        taken = fcntl(writing.rawValue, F_DUPFD_CLOEXEC, ends[0])
        holder = nil
      }
      guard taken == ends[0] else {
        close(taken)
        continue
      }
      #expect(isOpen(taken), "a second close hit the number's new owner")
      close(taken)
      return
    }
    Issue.record("the freed number was always taken by another test first")
  }
}
