@preconcurrency import CCurl
import Foundation
import Synchronization

/// One easy handle and the state its callbacks fill in.
///
/// Invariant: everything except `cancelRequested` is touched only by the curl thread
/// (`CurlMultiLoop`) once the transfer was submitted; that is why it is `@unchecked Sendable`.
final class CurlTransfer: @unchecked Sendable {
  let request: CurlRequest
  let consumer: (any CurlStreamConsumer)?
  let cancelRequested = Mutex(false)
  var completion: (@Sendable (CurlOutcome) -> Void)?

  private(set) var easy: UnsafeMutableRawPointer?
  private var headerList: UnsafeMutablePointer<curl_slist>?
  private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
  private(set) var outcome = CurlOutcome()
  private(set) var readyDeadline: ContinuousClock.Instant?

  init(request: CurlRequest, consumer: (any CurlStreamConsumer)? = nil) {
    self.request = request
    self.consumer = consumer
    errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
  }

  deinit {
    releaseHandle()
    errorBuffer.deallocate()
  }

  /// Called by a stream consumer (or the header callback) once the stream showed a sign of life.
  func markReady() {
    outcome.ready = true
    readyDeadline = nil
  }

  /// Builds the easy handle; nil (with `outcome` filled in) if curl refused an option.
  func makeHandle() -> UnsafeMutableRawPointer? {
    guard let h = curl_easy_init() else {
      outcome.code = Int(CURLE_FAILED_INIT.rawValue)
      outcome.errorText = "curl_easy_init failed"
      return nil
    }
    easy = h
    let r = request
    var ok = true
    func set(_ o: CURLoption, _ v: Int) { ok = ok && flannel_curl_setopt_long(h, o, v) == CURLE_OK }
    func set(_ o: CURLoption, _ v: String) {
      ok = ok && flannel_curl_setopt_string(h, o, v) == CURLE_OK
    }
    set(CURLOPT_URL, r.url)
    set(CURLOPT_NOSIGNAL, 1)
    set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
    set(CURLOPT_CONNECTTIMEOUT_MS, r.connectTimeout.curlMilliseconds)
    if let t = r.totalTimeout { set(CURLOPT_TIMEOUT_MS, t.curlMilliseconds) }
    if r.tcpKeepAlive {
      set(CURLOPT_TCP_KEEPALIVE, 1)
      set(CURLOPT_TCP_KEEPIDLE, 10)
      set(CURLOPT_TCP_KEEPINTVL, 5)
    }
    switch r.method {
    case .get: break
    case .post: break
    case .put, .delete: set(CURLOPT_CUSTOMREQUEST, r.method.rawValue)
    }
    if let body = r.body { set(CURLOPT_COPYPOSTFIELDS, body) }
    if let ca = r.caFile { set(CURLOPT_CAINFO, ca) }
    if let cert = r.certFile { set(CURLOPT_SSLCERT, cert) }
    if let key = r.keyFile { set(CURLOPT_SSLKEY, key) }
    if let auth = r.basicAuth {
      ok = ok && flannel_curl_setopt_basic_auth(h) == CURLE_OK
      set(CURLOPT_USERNAME, auth.user)
      set(CURLOPT_PASSWORD, auth.password)
    }
    // "Expect:" stops curl from waiting for 100-continue on larger bodies.
    for line in r.headers + ["Expect:"] { headerList = curl_slist_append(headerList, line) }
    ok = ok && flannel_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList) == CURLE_OK
    ok = ok && flannel_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
    let me = Unmanaged.passUnretained(self).toOpaque()
    ok = ok && flannel_curl_setopt_write_cb(h, CURLOPT_WRITEFUNCTION, curlWriteBody) == CURLE_OK
    ok = ok && flannel_curl_setopt_pointer(h, CURLOPT_WRITEDATA, me) == CURLE_OK
    ok = ok && flannel_curl_setopt_write_cb(h, CURLOPT_HEADERFUNCTION, curlWriteHeader) == CURLE_OK
    ok = ok && flannel_curl_setopt_pointer(h, CURLOPT_HEADERDATA, me) == CURLE_OK
    guard ok else {
      outcome.code = Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue)
      outcome.errorText = "curl rejected an option for \(r.url) (TLS files or credentials?)"
      releaseHandle()
      return nil
    }
    if let t = r.readyTimeout { readyDeadline = .now + t }
    return h
  }

  /// Records how curl finished; `code` is the transfer's CURLcode.
  func finish(code: CURLcode) {
    outcome.code = Int(code.rawValue)
    if code != CURLE_OK {
      let detail = String(cString: errorBuffer)
      outcome.errorText = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }
  }

  func finish(abortedWith text: String, code: CURLcode) {
    outcome.code = Int(code.rawValue)
    outcome.errorText = text
  }

  func markCancelled() { outcome.cancelled = true }

  func releaseHandle() {
    if let easy { curl_easy_cleanup(easy) }
    easy = nil
    if let headerList { curl_slist_free_all(headerList) }
    headerList = nil
  }

  fileprivate func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
    if outcome.status == 0, let easy {
      var code = 0
      _ = flannel_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
      outcome.status = code
    }
    if let consumer, outcome.status == 200 {
      if consumer.consume(chunk, transfer: self) { return true }
      outcome.stoppedByConsumer = true
      return false
    }
    outcome.body.append(contentsOf: chunk)
    return true
  }

  fileprivate func receiveHeader(_ line: UnsafeRawBufferPointer) {
    let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if text.hasPrefix("HTTP/") {
      // A new status line (after a 100 Continue or a redirect) starts a fresh header set.
      outcome.headers = [:]
      let parts = text.split(separator: " ")
      outcome.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    } else if text.isEmpty {
      if request.readyOnHeaders, outcome.status >= 200 { markReady() }
    } else if let colon = text.firstIndex(of: ":") {
      let name = text[..<colon].lowercased()
      let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      outcome.headers[name] = value
    }
  }
}

private let curlWriteBody: flannel_curl_write_cb = { data, size, count, context in
  let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
  let n = size * count
  return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
}

private let curlWriteHeader: flannel_curl_write_cb = { data, size, count, context in
  let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
  let n = size * count
  transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: n))
  return n
}
