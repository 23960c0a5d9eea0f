/// Feeds the v3 watch stream's bytes from the transfer into a `V3WatchStream` and passes its
/// messages on: responses to the watch's `AsyncThrowingStream`, the first sign that etcd
/// accepted the watch to the transfer (`markReady`), and the reason to stop as `verdict`.
///
/// Runs on the curl thread only (see `CurlMultiLoop`); `verdict` is read by the watch task
/// after the transfer ended, which the transfer's completion orders after every write.
final class V3WatchParser: CurlStreamConsumer, @unchecked Sendable {
  private let output: AsyncThrowingStream<EtcdV3WatchResponse, any Error>.Continuation
  private var stream: V3WatchStream
  /// Why the parser stopped the stream (compaction, an in-stream error, garbage).
  private(set) var verdict: EtcdError?
  private(set) var yieldedAny = false

  init(output: AsyncThrowingStream<EtcdV3WatchResponse, any Error>.Continuation, what: String) {
    self.output = output
    self.stream = V3WatchStream(what: what)
  }

  func consume(_ chunk: UnsafeRawBufferPointer, transfer: CurlTransfer) -> Bool {
    for message in stream.feed(chunk) {
      switch message {
      case .result(let response):
        transfer.markReady()
        if let response {
          yieldedAny = true
          output.yield(response)
        }
      case .end(let error, let answered):
        if answered { transfer.markReady() }
        verdict = error
        return false
      }
    }
    return true
  }
}

extension EtcdKeyValue {
  static let empty = EtcdKeyValue(
    key: "", value: "", createRevision: 0, modRevision: 0, version: 0, lease: 0)
}
