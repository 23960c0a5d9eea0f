import Foundation

/// Turns the v3 watch stream (newline-delimited `{"result":..}` documents) into
/// `EtcdV3WatchResponse`s as the bytes arrive.
///
/// Runs on the curl thread only (see `CurlMultiLoop`); `verdict` is read by the watch task
/// after the transfer ended, which the transfer's completion orders after every write.
final class V3WatchParser: CurlStreamConsumer, @unchecked Sendable {
  private let output: AsyncThrowingStream<EtcdV3WatchResponse, any Error>.Continuation
  private let what: String
  private var pending: [UInt8] = []
  /// Why the parser stopped the stream (compaction, an in-stream error, garbage).
  private(set) var verdict: EtcdError?
  private(set) var yieldedAny = false

  init(output: AsyncThrowingStream<EtcdV3WatchResponse, any Error>.Continuation, what: String) {
    self.output = output
    self.what = what
  }

  func consume(_ chunk: UnsafeRawBufferPointer, transfer: CurlTransfer) -> Bool {
    pending.append(contentsOf: chunk)
    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
      let line = Array(pending[..<newline])
      pending.removeSubrange(...newline)
      if line.allSatisfy({ $0 == 32 || $0 == 13 }) { continue }
      if !handle(line, transfer: transfer) { return false }
    }
    return true
  }

  /// Returns false once the stream must end (verdict set).
  private func handle(_ line: [UInt8], transfer: CurlTransfer) -> Bool {
    let doc: V3WatchLine
    do {
      doc = try WireJSON.decode(V3WatchLine.self, line, what: what)
    } catch {
      verdict = error as? EtcdError ?? .malformed("\(what): \(error)")
      return false
    }
    if let e = doc.error {
      verdict = .v3(code: e.grpcCode ?? 0, message: e.message ?? "watch stream error")
      return false
    }
    guard let result = doc.result else {
      verdict = .malformed("\(what): line without result")
      return false
    }
    transfer.markReady()
    if let compacted = result.compactRevision?.value, compacted != 0 {
      verdict = .compacted(compactRevision: compacted)
      return false
    }
    if result.canceled == true {
      verdict = .v3(code: 0, message: "watch cancelled by etcd: \(result.cancelReason ?? "")")
      return false
    }
    // The "created" confirmation carries nothing to report.
    if result.created == true && (result.events ?? []).isEmpty { return true }
    let events = (result.events ?? []).map { e in
      EtcdV3WatchEvent(kind: e.type == "DELETE" ? .delete : .put, kv: e.kv?.model ?? .empty)
    }
    yieldedAny = true
    output.yield(EtcdV3WatchResponse(revision: result.header?.revision.orZero ?? 0, events: events))
    return true
  }
}

extension EtcdKeyValue {
  static let empty = EtcdKeyValue(
    key: "", value: "", createRevision: 0, modRevision: 0, version: 0, lease: 0)
}
