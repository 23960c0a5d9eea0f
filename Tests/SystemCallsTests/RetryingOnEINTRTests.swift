import Foundation
import Synchronization
import SystemCalls
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct RetryingOnEINTRTests {
  @Test func interruptedCallsAreRetriedUntilOneSucceeds() throws {
    var calls = 0
    var described = 0
    let result = try retryingOnEINTR(
      "read",
      object: {
        described += 1; return "x"
      }()
    ) {
      calls += 1
      if calls <= 2 {
        errno = EINTR
        return -1
      }
      return 7
    }
    #expect(result == 7)
    #expect(calls == 3)
    #expect(described == 0, "texts are built only for a failure")
  }

  @Test func otherFailuresAreThrownNamingCallObjectAndErrno() {
    var calls = 0
    let error = #expect(throws: SystemCallError.self) {
      try retryingOnEINTR("bind", object: "udp 10.0.0.1:8285") { () -> Int32 in
        calls += 1
        errno = EADDRINUSE
        return -1
      }
    }
    #expect(calls == 1)
    #expect(
      error == SystemCallError(operation: "bind", object: "udp 10.0.0.1:8285", errno: EADDRINUSE))
    #expect(error?.description == "bind udp 10.0.0.1:8285: Address already in use")
    #expect(error?.errnoText == "Address already in use")
  }

  @Test func anOperationWithoutObjectHasNoGap() {
    #expect(
      SystemCallError("io_uring_enable_rings", errno: EBADFD).description
        == "io_uring_enable_rings: File descriptor in bad state")
    #expect(
      SystemCallError(operation: "netlink socket", errno: EPERM).description
        == "netlink socket: Operation not permitted")
  }

  @Test func aRealCallFailureCarriesItsErrno() {
    let path = "/proc/self/no-such-entry"
    #expect(throws: SystemCallError(operation: "open", object: path, errno: ENOENT)) {
      try retryingOnEINTR("open", object: path) { open(path, O_RDONLY | O_CLOEXEC) }
    }
  }

  /// A read blocked on an empty pipe is interrupted by a signal whose handler was installed
  /// without SA_RESTART, so the kernel ends it with EINTR; the wrapper reads again and returns
  /// the byte written afterwards.
  @Test func aSignalDuringABlockingReadIsRetried() throws {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in }
    action.sa_flags = 0
    var previous = sigaction()
    #expect(sigaction(SIGURG, &action, &previous) == 0)
    defer { sigaction(SIGURG, &previous, nil) }

    var ends: [Int32] = [0, 0]
    #expect(pipe(&ends) == 0)
    let reading = OwnedDescriptor(ends[0])
    let writing = OwnedDescriptor(ends[1])
    let state = Interrupted(readFD: reading.rawValue)
    let reader = Thread { state.run() }
    reader.start()

    // Signal the reader until its read has been called again (so at least one ended in EINTR).
    let deadline = ContinuousClock.now + .seconds(10)
    while state.calls.load(ordering: .acquiring) < 2 && ContinuousClock.now < deadline {
      if let thread = state.thread.withLock({ $0 }) { pthread_kill(thread, SIGURG) }
      usleep(5_000)
    }
    #expect(state.calls.load(ordering: .acquiring) >= 2)
    var byte: UInt8 = 42
    #expect(write(writing.rawValue, &byte, 1) == 1)
    while state.outcome.withLock({ $0 }) == nil && ContinuousClock.now < deadline { usleep(1_000) }
    #expect(state.outcome.withLock { $0 } == "read 1 byte: 42")
  }
}

/// The reading thread's side of `aSignalDuringABlockingReadIsRetried`.
private final class Interrupted: Sendable {
  let readFD: Int32
  let calls = Atomic<Int>(0)
  let thread = Mutex<pthread_t?>(nil)
  let outcome = Mutex<String?>(nil)

  init(readFD: Int32) { self.readFD = readFD }

  func run() {
    // Threads inherit their creator's signal mask; the test runner's may block SIGURG.
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGURG)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    thread.withLock { $0 = pthread_self() }
    var byte: UInt8 = 0
    let text: String
    do {
      let count = try retryingOnEINTR("read", object: "pipe") { () -> Int in
        calls.add(1, ordering: .releasing)
        return read(readFD, &byte, 1)
      }
      text = "read \(count) byte: \(byte)"
    } catch {
      text = "\(error)"
    }
    outcome.withLock { $0 = text }
  }
}
