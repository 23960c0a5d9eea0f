import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What reaches the health listener's loop from other threads — a stop request and rendered
/// /metrics answers — with a pipe that wakes its poll(2).
final class HealthLoopMailbox: Sendable {
  struct Rendered: Sendable {
    let fd: Int32
    let admitted: UInt64
    let request: HTTPExchange.Request
    let response: HTTPExchange.Response
  }

  private struct State {
    var rendered: [Rendered] = []
    var stopping = false
    /// The pipe is closed: nothing may be written to its (reusable) descriptor number.
    var closed = false
  }

  let wakeFD: Int32
  private let notifyFD: Int32
  private let state = Mutex(State())

  init() throws(HealthServerError) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else {
      throw HealthServerError("Start healthz server error. pipe: \(HealthServer.lastError())")
    }
    for fd in fds {
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    wakeFD = fds[0]
    notifyFD = fds[1]
  }

  var stopping: Bool { state.withLock { $0.stopping } }

  func requestStop() {
    state.withLock {
      $0.stopping = true
      if !$0.closed { notify() }
    }
  }

  /// From the render thread; dropped once the listener has stopped.
  func post(_ rendered: Rendered) {
    state.withLock {
      guard !$0.closed else { return }
      $0.rendered.append(rendered)
      notify()
    }
  }

  /// On the loop: empties the pipe and hands over what was posted.
  func take() -> [Rendered] {
    var sink = [UInt8](repeating: 0, count: 64)
    while read(wakeFD, &sink, sink.count) > 0 {}
    return state.withLock { state in
      defer { state.rendered.removeAll() }
      return state.rendered
    }
  }

  /// After the loop has ended.
  func close() {
    state.withLock {
      guard !$0.closed else { return }
      $0.closed = true
      _ = Glibc.close(wakeFD)
      _ = Glibc.close(notifyFD)
    }
  }

  private func notify() {
    var byte: UInt8 = 1
    // A full pipe already wakes the loop: EAGAIN is fine.
    _ = write(notifyFD, &byte, 1)
  }
}
