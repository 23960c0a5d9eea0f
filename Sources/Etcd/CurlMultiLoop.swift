@preconcurrency import CCurl
import Foundation
import Synchronization

/// The one thread that drives every etcd transfer of the process through a curl multi handle.
///
/// Callers never block: they hand a `CurlTransfer` over through a locked queue, wake the
/// thread with `curl_multi_wakeup`, and are resumed from the thread when the transfer ends.
/// Streaming transfers deliver their body through the transfer's consumer as it arrives.
/// Invariant: `multi` and `active` are used only on the loop thread.
final class CurlMultiLoop: @unchecked Sendable {
  static let shared = CurlMultiLoop()
  /// At most this many idle etcd connections stay open (`Scripts/soak.sh` checks the bound).
  static let idleConnections = 4

  private enum Op {
    case add(CurlTransfer)
    case cancel(CurlTransfer)
  }

  private let multi: UnsafeMutableRawPointer
  private let queue = Mutex<[Op]>([])
  private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
  /// URLs of the transfers inside curl, mirrored for `activeCount(urlPrefix:)`.
  private let activeURLs = Mutex<[ObjectIdentifier: String]>([:])

  /// Transfers inside curl whose URL starts with `urlPrefix` (tests: a cancelled stream must
  /// leave).
  func activeCount(urlPrefix: String) -> Int {
    activeURLs.withLock { $0.values.filter { $0.hasPrefix(urlPrefix) }.count }
  }

  private init() {
    CurlGlobal.initialize()
    multi = curl_multi_init()
    // Idle connections kept for reuse: a fixed few, not curl's default of four per transfer
    // added at once, so that bursts of requests (a re-list after etcd returns) leave no crowd of
    // open sockets behind.
    _ = flannel_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, Self.idleConnections)
    let thread = Thread { [self] in run() }
    thread.name = "etcd-curl"
    thread.start()
  }

  /// Runs one transfer to its end. Task cancellation aborts it and yields `cancelled`.
  func run(_ transfer: CurlTransfer) async -> CurlOutcome {
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<CurlOutcome, Never>) in
        transfer.completion = { continuation.resume(returning: $0) }
        enqueue(.add(transfer))
      }
    } onCancel: {
      transfer.cancelRequested.withLock { $0 = true }
      enqueue(.cancel(transfer))
    }
  }

  private func enqueue(_ op: Op) {
    queue.withLock { $0.append(op) }
    curl_multi_wakeup(multi)
  }

  private func run() {
    while true {
      for op in queue.withLock({ ops in
        defer { ops.removeAll() }; return ops
      }) {
        switch op {
        case .add(let t): start(t)
        case .cancel(let t):
          if let easy = t.easy, active[easy] != nil {
            t.markCancelled()
            complete(t)
          }
        }
      }
      var running: Int32 = 0
      curl_multi_perform(multi, &running)
      var left: Int32 = 0
      while let msg = curl_multi_info_read(multi, &left) {
        guard flannel_curl_msg_is_done(msg) != 0, let easy = flannel_curl_msg_easy(msg),
          let t = active[easy]
        else { continue }
        t.finish(code: flannel_curl_msg_result(msg))
        complete(t)
      }
      var wait = 1000
      let now = ContinuousClock.now
      for t in Array(active.values) {
        guard let deadline = t.readyDeadline else { continue }
        if deadline <= now {
          let seconds = t.request.readyTimeout.map { "\($0)" } ?? "?"
          t.finish(
            abortedWith: "no response from \(t.request.url) within \(seconds)",
            code: CURLE_OPERATION_TIMEDOUT)
          complete(t)
        } else {
          wait = min(wait, (deadline - now).curlMilliseconds)
        }
      }
      curl_multi_poll(multi, nil, 0, Int32(wait), nil)
    }
  }

  private func start(_ t: CurlTransfer) {
    if t.cancelRequested.withLock({ $0 }) {
      t.markCancelled()
      deliver(t)
      return
    }
    guard let easy = t.makeHandle() else {
      deliver(t)
      return
    }
    active[easy] = t
    activeURLs.withLock { $0[ObjectIdentifier(t)] = t.request.url }
    curl_multi_add_handle(multi, easy)
  }

  /// Takes an active transfer out of curl and reports its outcome.
  private func complete(_ t: CurlTransfer) {
    if let easy = t.easy {
      curl_multi_remove_handle(multi, easy)
      active[easy] = nil
      activeURLs.withLock { $0[ObjectIdentifier(t)] = nil }
    }
    deliver(t)
  }

  private func deliver(_ t: CurlTransfer) {
    t.releaseHandle()
    let done = t.completion
    t.completion = nil
    done?(t.outcome)
  }
}

/// `curl_global_init` must run once, before any other curl call.
enum CurlGlobal {
  private static let done: Bool = {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    return true
  }()

  static func initialize() { _ = done }
}
