import CSystemShims
import Foundation
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// The health listener's serving thread: one poll(2) loop over the listening socket, the
/// mailbox's wake pipe and every connection (at most `limits.maxConnections`, so a linear
/// scan per wake-up is cheap). Non-blocking sockets throughout: no client can hold the loop;
/// each is bounded by its deadline and its byte budget, and the cap closes the connection
/// idle longest to let a new one in. `/healthz` and `/readyz` are answered here from
/// constants and an atomic; `/metrics` is rendered on `renderQueue` (rendering takes the
/// metrics registry's lock, which the data plane and the etcd loop take to publish — a
/// probe must never wait behind them) and comes back through the mailbox.
final class HealthListenerLoop {
  private let listener: Int32
  private let limits: HealthServerLimits
  private let routes: HealthRoutes
  private let readiness: HealthReadiness
  private let mailbox: HealthLoopMailbox
  private let renderQueue = DispatchQueue(label: "flanneld-healthz-metrics")
  private var connections: [Int32: HealthConnection] = [:]
  private var admissions: UInt64 = 0
  /// Accepting pauses briefly when the process is out of descriptors (EMFILE), instead of
  /// spinning on a listener that stays readable.
  private var acceptPausedUntil: ContinuousClock.Instant?
  private var scratch = [UInt8](repeating: 0, count: 16384)
  /// Answers queued for one client before its requests are left unread.
  static let maxPendingOutput = 65_536
  /// Bytes read from one connection per wake-up, so a fast sender cannot hold the loop.
  static let maxReadPerWake = 65_536

  /// What the loop is made of, handed to its thread.
  struct Parts: Sendable {
    let listener: Int32
    let limits: HealthServerLimits
    let routes: HealthRoutes
    let readiness: HealthReadiness
    let mailbox: HealthLoopMailbox
  }

  init(_ parts: Parts) {
    listener = parts.listener
    limits = parts.limits
    routes = parts.routes
    readiness = parts.readiness
    mailbox = parts.mailbox
  }

  func run() {
    var entries: [pollfd] = []
    var order: [Int32] = []
    while !mailbox.stopping {
      expire(now: .now)
      entries.removeAll(keepingCapacity: true)
      order.removeAll(keepingCapacity: true)
      let accepting = acceptPausedUntil.map { ContinuousClock.now >= $0 } ?? true
      entries.append(pollfd(fd: accepting ? listener : -1, events: Int16(POLLIN), revents: 0))
      entries.append(pollfd(fd: mailbox.wakeFD, events: Int16(POLLIN), revents: 0))
      for (fd, connection) in connections {
        var events: Int32 = 0
        // While /metrics renders, a full budget waits to be parsed, or answers wait for a
        // client that does not read them (pipelining without reading), input stays in the
        // kernel (hang-ups are reported regardless); the request deadline then ends it.
        if connection.phase != .answering && connection.input.count <= limits.maxRequestBytes
          && connection.output.count < Self.maxPendingOutput
        {
          events |= Int32(POLLIN)
        }
        if !connection.output.isEmpty { events |= Int32(POLLOUT) }
        entries.append(pollfd(fd: fd, events: Int16(events), revents: 0))
        order.append(fd)
      }
      // Not retried in place: after a signal the loop goes round, expiring deadlines and
      // computing the timeout again (a retry would wait the whole timeout once more).
      let ready = poll(&entries, nfds_t(entries.count), pollTimeout(accepting: accepting))
      if ready < 0 && errno != EINTR {
        // Never expected (EFAULT, EINVAL): say so rather than stop answering silently.
        FileHandle.standardError.write(
          Data("healthz: poll failed: \(String(cString: strerror(errno))); probes stop\n".utf8))
        break
      }
      guard ready > 0 else { continue }
      if entries[1].revents != 0 {
        for rendered in mailbox.take() { deliver(rendered) }
      }
      for (index, fd) in order.enumerated() where entries[index + 2].revents != 0 {
        service(fd, events: Int32(entries[index + 2].revents))
      }
      if entries[0].revents != 0 { acceptAll() }
    }
    connections.removeAll()  // closes them
  }

  // MARK: - Time

  /// Milliseconds to the nearest deadline (rounded up), -1 for none.
  private func pollTimeout(accepting: Bool) -> Int32 {
    var nearest = connections.values.compactMap(\.deadline).min()
    if !accepting, let paused = acceptPausedUntil { nearest = min(nearest ?? paused, paused) }
    guard let nearest else { return -1 }
    let (seconds, attoseconds) = (nearest - .now).components
    guard seconds >= 0 && (seconds > 0 || attoseconds > 0) else { return 0 }
    return Int32(
      clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
  }

  private func expire(now: ContinuousClock.Instant) {
    for (fd, connection) in connections {
      if let deadline = connection.deadline, deadline <= now { drop(fd) }
    }
  }

  // MARK: - Connections

  private func acceptAll() {
    while true {
      // Non-blocking and close-on-exec from the start: iptables children spawned meanwhile
      // must not inherit a probe connection.
      let fd: Int32
      do throws(SystemCallError) {
        fd = try retryingOnEINTR("accept") { flannel_accept_nonblocking(listener) }
      } catch {
        if [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errno) {
          acceptPausedUntil = .now + .milliseconds(100)
        }
        return  // EAGAIN: none left
      }
      if connections.count >= max(1, limits.maxConnections),
        let victim = connections.values.min(by: HealthConnection.goesFirst)
      {
        drop(victim.fd)
      }
      admissions += 1
      connections[fd] = HealthConnection(
        socket: OwnedDescriptor(fd), admitted: admissions, now: .now,
        deadline: limits.requestDeadline)
    }
  }

  /// Forgets the connection, which closes its socket.
  private func drop(_ fd: Int32) {
    connections.removeValue(forKey: fd)
  }

  private func service(_ fd: Int32, events: Int32) {
    guard let connection = connections[fd] else { return }
    if events & Int32(POLLIN | POLLHUP | POLLERR) != 0 && connection.phase != .answering {
      guard receive(connection) else { return drop(fd) }
    } else if events & Int32(POLLHUP | POLLERR) != 0 && events & Int32(POLLOUT) == 0 {
      return drop(fd)
    }
    advance(connection)
    flush(connection)
  }

  /// Reads what the kernel holds, up to one byte past the request budget; false when the
  /// connection is gone (a reset, or the peer's close once nothing is left to answer).
  private func receive(_ connection: HealthConnection) -> Bool {
    var read = 0
    while connection.input.count <= limits.maxRequestBytes && read < Self.maxReadPerWake {
      let count: Int
      do throws(SystemCallError) {
        count = try retryingOnEINTR("recv") { recv(connection.fd, &scratch, scratch.count, 0) }
      } catch {
        return error.errno == EAGAIN || error.errno == EWOULDBLOCK
      }
      if count > 0 {
        read += count
        if connection.phase == .closing { continue }
        connection.input += scratch[..<count]
        beginReceiving(connection)
      } else {
        // A client may shut its side after its request: it still gets the answer.
        connection.peerClosed = true
        return connection.phase != .closing
          && (!connection.input.isEmpty || !connection.output.isEmpty)
      }
    }
    return true
  }

  private func beginReceiving(_ connection: HealthConnection) {
    switch connection.phase {
    case .fresh:
      connection.phase = .receiving  // the deadline from the accept stands
      connection.idleSince = nil
    case .idle:
      connection.phase = .receiving
      connection.idleSince = nil
      connection.deadline = .now + limits.requestDeadline
    case .receiving, .answering, .closing:
      break
    }
  }

  /// Answers every complete request at the front of the input, in order, stopping at a
  /// /metrics render (its answer comes back through the mailbox).
  private func advance(_ connection: HealthConnection) {
    while connection.phase != .answering && connection.phase != .closing
      && connection.output.count < Self.maxPendingOutput
    {
      guard let end = HTTPExchange.headEnd(connection.input) else {
        if connection.input.count > limits.maxRequestBytes { refuse(connection, status: 431) }
        if connection.peerClosed { finish(connection) }
        return
      }
      guard end <= limits.maxRequestBytes else { return refuse(connection, status: 431) }
      let head = connection.input[..<end]
      connection.input.removeFirst(end)
      guard let request = HTTPExchange.parse(head: head) else {
        return refuse(connection, status: 400)
      }
      connection.phase = .answering
      connection.idleSince = nil
      connection.deadline = nil
      if HealthRoutes.rendersOffThread(request.path) {
        render(request, for: connection)
        return
      }
      answer(connection, request, with: routes.respond(to: request, ready: readiness.isReady))
    }
  }

  private func render(_ request: HTTPExchange.Request, for connection: HealthConnection) {
    let (routes, mailbox, fd, admitted) = (routes, mailbox, connection.fd, connection.admitted)
    renderQueue.async {
      let response = routes.respond(to: request, ready: false)
      mailbox.post(.init(fd: fd, admitted: admitted, request: request, response: response))
    }
  }

  private func deliver(_ rendered: HealthLoopMailbox.Rendered) {
    guard let connection = connections[rendered.fd], connection.admitted == rendered.admitted,
      connection.phase == .answering
    else { return }
    answer(connection, rendered.request, with: rendered.response)
    advance(connection)
    flush(connection)
  }

  private func answer(
    _ connection: HealthConnection, _ request: HTTPExchange.Request,
    with response: HTTPExchange.Response
  ) {
    let keepAlive = request.keepAlive && !request.hasBody && !connection.peerClosed
    connection.output += response.serialized(
      includeBody: request.method != "HEAD", keepAlive: keepAlive)
    guard keepAlive else { return finish(connection) }
    if connection.input.isEmpty {
      connection.phase = .idle
      connection.idleSince = .now
      connection.deadline = .now + limits.keepAliveIdle
    } else {
      connection.phase = .receiving
      connection.deadline = .now + limits.requestDeadline
    }
  }

  /// Go's texts for a head too large or malformed; then the connection is finished.
  private func refuse(_ connection: HealthConnection, status: Int) {
    let text = status == 431 ? "431 Request Header Fields Too Large" : "400 Bad Request"
    connection.output += HTTPExchange.Response(status: status, body: text)
      .serialized(includeBody: true, keepAlive: false)
    finish(connection)
  }

  /// No more requests: once the output is written the write side is shut, and the peer's
  /// close (or a short deadline) ends it — closing at once with the client's unread bytes
  /// still queued would send a reset that can destroy the answer in flight.
  private func finish(_ connection: HealthConnection) {
    connection.phase = .closing
    connection.idleSince = nil
    connection.input = []
    connection.finishWhenWritten = true
    // Time to write the answer to a client that reads it; the linger after it is shorter.
    connection.deadline = .now + limits.requestDeadline
  }

  private func flush(_ connection: HealthConnection) {
    while !connection.output.isEmpty {
      let sent: Int
      do throws(SystemCallError) {
        sent = try retryingOnEINTR("send") {
          connection.output.withUnsafeBytes {
            send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
          }
        }
      } catch {
        if error.errno == EAGAIN || error.errno == EWOULDBLOCK { return }
        return drop(connection.fd)
      }
      guard sent > 0 else { return drop(connection.fd) }
      connection.output.removeFirst(sent)
    }
    if connection.finishWhenWritten {
      connection.finishWhenWritten = false
      if connection.peerClosed { return drop(connection.fd) }
      shutdown(connection.fd, Int32(SHUT_WR))
      connection.deadline = .now + .seconds(1)
    }
  }
}
