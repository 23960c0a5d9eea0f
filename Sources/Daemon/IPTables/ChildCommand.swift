import CSystemShims
import Glibc

/// What a child program printed and how it ended.
struct ChildCommandOutput: Sendable, Equatable {
  /// The exit status, or 128 + the signal's number when a signal ended it (as a shell says).
  var status: Int32
  var stdout: [UInt8]
  var stderr: [UInt8]
}

/// Runs a program to its end on the calling thread: posix_spawn, its stdin fed from memory,
/// its stdout and stderr read together with poll, then waitpid. SIGPIPE is blocked on the
/// calling thread meanwhile (and a pending one consumed): a child that exits before reading
/// all its input must not end the process, whether or not it ignores SIGPIPE.
///
/// Foundation's `Process` is not used because it gives every thread that starts a child a run
/// loop of three descriptors (epoll, eventfd, timerfd) that lives as long as the thread: the
/// iptables keeper runs on whichever Dispatch worker is free, so the daemon's descriptor count
/// rose and fell with the worker pool, which hid any real leak.
enum ChildCommand {
  /// A pipe could not be made or posix_spawn refused: the errno.
  struct Failure: Error, Equatable {
    var errno: Int32
  }

  static func run(path: String, arguments: [String], input: [UInt8] = []) throws(Failure)
    -> ChildCommandOutput
  {
    var open: [Int32] = []
    defer { for fd in open { close(fd) } }
    let (childIn, stdin) = try pipe(&open)
    let (stdout, childOut) = try pipe(&open)
    let (stderr, childErr) = try pipe(&open)
    let pid = try spawn(
      path: path, arguments: arguments, stdin: childIn, stdout: childOut, stderr: childErr)
    // The child's ends are the child's now; closing ours lets EOF reach both sides. The
    // streams close the parent's ends.
    open = []
    for fd in [childIn, childOut, childErr] { close(fd) }
    var streams = Streams(input: input, stdin: stdin, stdout: stdout, stderr: stderr)
    withSIGPIPEBlocked { streams.pump() }
    return ChildCommandOutput(status: wait(for: pid), stdout: streams.out, stderr: streams.err)
  }

  /// A close-on-exec pipe (read end, write end), both recorded in `open` for cleanup.
  private static func pipe(_ open: inout [Int32]) throws(Failure) -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    guard flannel_pipe_cloexec(&fds) == 0 else { throw Failure(errno: errno) }
    open += fds
    return (fds[0], fds[1])
  }

  /// Runs `body` with SIGPIPE blocked on this thread; a SIGPIPE it raised (a write to a
  /// closed pipe is signalled to the writing thread) is taken off before the mask returns.
  private static func withSIGPIPEBlocked(_ body: () -> Void) {
    var pipe = sigset_t()
    var previous = sigset_t()
    var pending = sigset_t()
    sigemptyset(&pipe)
    sigaddset(&pipe, SIGPIPE)
    pthread_sigmask(SIG_BLOCK, &pipe, &previous)
    sigpending(&pending)
    let pendingBefore = sigismember(&pending, SIGPIPE) == 1
    body()
    sigpending(&pending)
    if !pendingBefore && sigismember(&pending, SIGPIPE) == 1 {
      var now = timespec(tv_sec: 0, tv_nsec: 0)
      while sigtimedwait(&pipe, nil, &now) < 0 && errno == EINTR {}
    }
    pthread_sigmask(SIG_SETMASK, &previous, nil)
  }

  private static func spawn(
    path: String, arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32
  ) throws(Failure) -> pid_t {
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid: Int32 = 0
    let err = argv.withUnsafeBufferPointer {
      flannel_spawn(path, $0.baseAddress!, environ, stdin, stdout, stderr, &pid)
    }
    guard err == 0 else { throw Failure(errno: err) }
    return pid
  }

  /// The child's status; -1 when it cannot be had (someone else reaped it), never a success.
  private static func wait(for pid: pid_t) -> Int32 {
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 {
      if errno != EINTR { return -1 }
    }
    let signal = raw & 0x7f
    return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
  }
}

/// The parent's ends of the three pipes, driven together so that a child which writes much
/// before reading all its input (or fills stderr first) never stalls against us.
private struct Streams {
  let input: [UInt8]
  var written = 0
  var stdin: Int32
  var stdout: Int32
  var stderr: Int32
  var out: [UInt8] = []
  var err: [UInt8] = []

  init(input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32) {
    self.input = input
    self.stdin = stdin
    self.stdout = stdout
    self.stderr = stderr
    for fd in [stdin, stdout, stderr] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    if input.isEmpty { closeInput() }
  }

  /// Returns when stdout and stderr reached EOF (the child and anything it started closed
  /// them); stdin is closed by then.
  mutating func pump() {
    while stdout >= 0 || stderr >= 0 {
      var fds = [
        pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0),
        pollfd(fd: stdout, events: Int16(POLLIN), revents: 0),
        pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
      ]
      if poll(&fds, 3, -1) < 0 {
        if errno == EINTR { continue }
        break
      }
      if fds[0].revents != 0 { feed() }
      if fds[1].revents != 0 { Self.drain(&stdout, into: &out) }
      if fds[2].revents != 0 { Self.drain(&stderr, into: &err) }
    }
    closeInput()
    for fd in [stdout, stderr] where fd >= 0 { close(fd) }
    stdout = -1
    stderr = -1
  }

  private mutating func feed() {
    while written < input.count {
      let n = input.withUnsafeBytes { write(stdin, $0.baseAddress! + written, $0.count - written) }
      if n > 0 {
        written += n
      } else if n < 0 && errno == EINTR {
        continue
      } else if n < 0 && errno == EAGAIN {
        return
      } else {
        break  // EPIPE: the child stopped reading; its status tells the caller
      }
    }
    closeInput()
  }

  private mutating func closeInput() {
    if stdin >= 0 { close(stdin) }
    stdin = -1
  }

  private static func drain(_ fd: inout Int32, into data: inout [UInt8]) {
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
      if n > 0 {
        data.append(contentsOf: chunk[0..<n])
      } else if n < 0 && errno == EINTR {
        continue
      } else if n < 0 && errno == EAGAIN {
        return
      } else {
        close(fd)
        fd = -1
        return
      }
    }
  }
}
