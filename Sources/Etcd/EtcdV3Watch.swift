import Foundation

extension EtcdV3Client {
  /// One watch stream on every key with `prefix`, from `startRevision` (POST /v3/watch with
  /// progress_notify).
  ///
  /// Yields one response per etcd message that carries events, and progress notifications as
  /// responses with no events (their `revision` is a safe resume point); the initial "created"
  /// confirmation is not yielded. Ends by throwing `.compacted(compactRevision:)` when the
  /// start revision was compacted, or another `EtcdError` when the connection drops: it does
  /// not resume by itself (resume from the last `revision + 1`). Until etcd confirmed the
  /// watch, endpoints are tried in turn, each given `requestTimeout`. Ending the iteration or
  /// cancelling the consuming task aborts the transfer.
  public func watch(prefix: String, startRevision: Int64)
    -> AsyncThrowingStream<EtcdV3WatchResponse, any Error>
  {
    let (stream, continuation) = AsyncThrowingStream.makeStream(
      of: EtcdV3WatchResponse.self, throwing: (any Error).self)
    let task = Task { [self] in
      do {
        try await runWatch(prefix: prefix, startRevision: startRevision, output: continuation)
      } catch {
        continuation.finish(throwing: error)
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  /// Runs the stream to its end; always finishes by throwing.
  private func runWatch(
    prefix: String, startRevision: Int64,
    output: AsyncThrowingStream<EtcdV3WatchResponse, any Error>.Continuation
  ) async throws {
    let what = "etcd v3 watch \(prefix) from revision \(startRevision)"
    let create: [String: Any] = [
      "key": prefix.base64, "range_end": V3KeyRange.prefixEnd(prefix).base64,
      "start_revision": String(startRevision), "progress_notify": true,
    ]
    let body = WireJSON.encode(["create_request": create])
    var retriedAuth = false
    while true {
      let headers = try await authHeaders()
      var parser: V3WatchParser?
      let (endpoint, out) = try await transport.perform(
        what,
        consumer: {
          let p = V3WatchParser(output: output, what: what)
          parser = p
          return p
        }
      ) { endpoint in
        transport.request(
          endpoint, "/v3/watch", method: .post, body: body, headers: headers, streaming: true)
      }
      var error: EtcdError
      if out.status != 200 {
        error = Self.gatewayError(endpoint: endpoint, out)
      } else if let verdict = parser?.verdict {
        error = verdict
      } else {
        let reason = out.code == 0 ? "stream closed by etcd" : out.errorText
        error = .unavailable(endpoints: [endpoint], lastError: "\(what) at \(endpoint): \(reason)")
      }
      if !retriedAuth, parser?.yieldedAny != true, case .v3(_, let message) = error,
        Self.isStaleToken(message), transport.config.username != nil
      {
        retriedAuth = true
        clearToken()
        continue
      }
      throw error
    }
  }
}
