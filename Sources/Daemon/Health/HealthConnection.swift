import SystemCalls

/// One connection of the health listener, as its serving loop sees it; its socket is closed
/// when the loop lets go of it. Touched only on the loop's thread.
final class HealthConnection {
  enum Phase: Equatable {
    /// Accepted, nothing received: the request deadline runs from the accept.
    case fresh
    /// Between keep-alive requests: the idle timeout runs.
    case idle
    /// Bytes of a request are here but not yet its whole head: the request deadline runs.
    case receiving
    /// A request is being answered (/metrics rendering): no deadline of its own.
    case answering
    /// The answer is out (or being written) and the write side shut: waiting for the peer's
    /// close, input dropped, briefly.
    case closing
  }

  private let socket: OwnedDescriptor
  var fd: Int32 { socket.rawValue }
  /// Admission order: the oldest-first choice when none is idle, and a guard against a
  /// reused descriptor number when a render comes back.
  let admitted: UInt64
  var phase = Phase.fresh
  var input: [UInt8] = []
  var output: [UInt8] = []
  /// When the loop closes it unless something moves it on; nil while answering.
  var deadline: ContinuousClock.Instant?
  /// Since when it has waited with no byte of a request received; nil otherwise.
  var idleSince: ContinuousClock.Instant?
  /// After the output is written: shut the write side and move to `.closing`.
  var finishWhenWritten = false
  /// The peer has shut its side: answer what is here, then finish.
  var peerClosed = false

  init(
    socket: consuming OwnedDescriptor, admitted: UInt64, now: ContinuousClock.Instant,
    deadline: Duration
  ) {
    self.socket = socket
    self.admitted = admitted
    self.idleSince = now
    self.deadline = now + deadline
  }

  var isIdle: Bool { idleSince != nil }

  /// The connection idle longest goes first; when none is idle, the one admitted first (its
  /// request is the nearest to its own deadline anyway).
  static func goesFirst(_ a: HealthConnection, _ b: HealthConnection) -> Bool {
    switch (a.idleSince, b.idleSince) {
    case (let x?, let y?): return x != y ? x < y : a.admitted < b.admitted
    case (.some, nil): return true
    case (nil, .some): return false
    case (nil, nil): return a.admitted < b.admitted
    }
  }
}
