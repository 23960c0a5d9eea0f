import Foundation

/// The v3 watch stream (newline-delimited `{"result":..}` documents) read as bytes arrive:
/// each complete line (`V3WatchLines`) becomes one `Message`. Pure (no transfer, no
/// continuation), so the same bytes give the same messages however they are split into
/// chunks; Fuzz/V3Watch checks exactly that.
struct V3WatchStream {
  enum Message: Equatable {
    /// A `result` line: etcd has accepted the watch. nil for the "created" confirmation,
    /// which carries nothing to report.
    case result(EtcdV3WatchResponse?)
    /// The stream must end: compaction, cancellation, an in-stream error or garbage.
    /// `answered` says the line was a `result` (etcd had accepted the watch).
    case end(EtcdError, answered: Bool)
  }

  let what: String
  private var lines = V3WatchLines()
  /// Set by the first `.end`; later bytes are ignored.
  private(set) var ended = false

  init(what: String) {
    self.what = what
  }

  /// The messages of every line completed by `chunk`, in order, up to and including the
  /// first `.end`.
  mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [Message] {
    guard !ended else { return [] }
    var messages: [Message] = []
    for line in lines.feed(chunk) {
      let message = Self.message(Array(line), what: what)
      messages.append(message)
      if case .end = message {
        ended = true
        lines = V3WatchLines()
        break
      }
    }
    return messages
  }

  /// What one line says.
  static func message(_ line: [UInt8], what: String) -> Message {
    let doc: V3WatchLine
    do {
      doc = try WireJSON.decode(V3WatchLine.self, line, what: what)
    } catch {
      return .end(error as? EtcdError ?? .malformed("\(what): \(error)"), answered: false)
    }
    if let e = doc.error {
      return .end(
        .v3(code: e.grpcCode ?? 0, message: e.message ?? "watch stream error"), answered: false)
    }
    guard let result = doc.result else {
      return .end(.malformed("\(what): line without result"), answered: false)
    }
    if let compacted = result.compactRevision?.value, compacted != 0 {
      return .end(.compacted(compactRevision: compacted), answered: true)
    }
    if result.canceled == true {
      return .end(
        .v3(code: 0, message: "watch cancelled by etcd: \(result.cancelReason ?? "")"),
        answered: true)
    }
    let events = (result.events ?? []).map { e in
      EtcdV3WatchEvent(kind: e.type == "DELETE" ? .delete : .put, kv: e.kv?.model ?? .empty)
    }
    if result.created == true && events.isEmpty { return .result(nil) }
    return .result(
      EtcdV3WatchResponse(revision: result.header?.revision.orZero ?? 0, events: events))
  }
}
