import Foundation

@testable import Etcd
@testable import FlannelCore

/// The v3 watch stream parser (`V3WatchStream`, with its framing `V3WatchLines`) fed in
/// random chunk splits. On arbitrary bytes every split gives the same lines as the whole
/// input in one piece, and the stream fed in chunks gives the messages of those lines; on a
/// generated stream (created confirmation, put and delete events with arbitrary key and value
/// bytes, progress notifications, blank lines, CRLF, an ending by compaction, cancellation
/// or an in-stream error) a split gives exactly the messages the lines were written from.
/// (Lines are decoded once or twice per run, not once per split: JSONDecoder is most of the
/// cost, and the framing is where chunking matters.)
enum V3WatchTarget: ParserTarget {
  static let name = "v3watch"
  static let requiredChecks = ["input split", "generated stream", "generated stream end"]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    // Each input plays one of the two roles (picked by its hash, so a mutation can flip it):
    // decoding dominates the cost, and both roles decode every line once or twice.
    var seed = bytes.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    if seed & 1 == 0 {
      checkInput(bytes, seed: &seed)
    } else {
      checkGenerated(bytes)
    }
  }

  static func checkInput(_ bytes: UnsafeBufferPointer<UInt8>, seed: inout UInt64) {
    let raw = UnsafeRawBufferPointer(bytes)
    var whole = V3WatchLines()
    let lines = whole.feed(raw).map { Array($0) }
    for maxChunk in [1 + Int(seed % 8), 300] {
      var split = V3WatchLines()
      let got = chunks(bytes.count, maxChunk: maxChunk, seed: &seed).flatMap {
        split.feed(UnsafeRawBufferPointer(rebasing: raw[$0])).map { Array($0) }
      }
      require(got == lines, "lines in chunks of up to \(maxChunk) bytes: \(got) != \(lines)")
    }
    var expected: [V3WatchStream.Message] = []
    for line in lines {
      expected.append(V3WatchStream.message(line, what: "fuzz"))
      if case .end = expected.last { break }
    }
    let got = fedInChunks(Array(bytes), maxChunk: 1 + Int(seed % 64), seed: &seed)
    require(got == expected, "messages in chunks: \(got) != \(expected)")
    Checks.count("input split")
  }

  static func checkGenerated(_ bytes: UnsafeBufferPointer<UInt8>) {
    var input = FuzzInput(bytes)
    let (stream, messages) = generatedStream(&input)
    var splitSeed = input.u64()
    let maxChunk = [1, 16, 4096][Int(splitSeed % 3)]
    let fed = fedInChunks(stream, maxChunk: maxChunk, seed: &splitSeed)
    require(
      fed == messages,
      "generated stream \(String(decoding: stream, as: UTF8.self)) in chunks of up to "
        + "\(maxChunk): \(fed) != \(messages)")
    Checks.count("generated stream")
    if case .end = messages.last { Checks.count("generated stream end") }
  }

  /// Index ranges of 1...maxChunk bytes covering 0..<count (sizes from SplitMix64).
  static func chunks(_ count: Int, maxChunk: Int, seed: inout UInt64) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var at = 0
    while at < count {
      var mix = PayloadBytes(state: seed)
      seed = mix.next()
      let end = min(count, at + 1 + Int(seed % UInt64(maxChunk)))
      ranges.append(at..<end)
      at = end
    }
    return ranges
  }

  /// Feeds `bytes` in chunks, stopping after the first `.end` like the curl consumer does.
  static func fedInChunks(_ bytes: [UInt8], maxChunk: Int, seed: inout UInt64)
    -> [V3WatchStream.Message]
  {
    var stream = V3WatchStream(what: "fuzz")
    var messages: [V3WatchStream.Message] = []
    bytes.withUnsafeBytes { raw in
      for range in chunks(bytes.count, maxChunk: maxChunk, seed: &seed) where !stream.ended {
        messages += stream.feed(UnsafeRawBufferPointer(rebasing: raw[range]))
      }
    }
    return messages
  }

  /// Watch lines as the grpc-gateway writes them (snake_case, int64 as strings, zero values
  /// left out, bytes in base64) and the messages they must give.
  static func generatedStream(_ input: inout FuzzInput) -> ([UInt8], [V3WatchStream.Message]) {
    var text = ""
    var messages: [V3WatchStream.Message] = []
    func line(_ value: JSONValue) {
      if input.byte() % 8 == 0 { text += input.bool() ? "\r\n" : "  \n" }
      text += value.serialized() + (input.byte() % 4 == 0 ? "\r\n" : "\n")
    }
    func revision(_ value: Int64) -> JSONValue {
      input.bool() ? .string(String(value)) : .int(value)
    }
    func header(_ value: Int64) -> JSONMember {
      JSONMember(
        "header", value == 0 ? .object([]) : .object([JSONMember("revision", revision(value))]))
    }
    var current = Int64(input.u16())
    if input.bool() {
      line(
        .object([
          JSONMember("result", .object([header(current), JSONMember("created", .bool(true))]))
        ]))
      messages.append(.result(nil))
    }
    for _ in 0..<Int(input.byte() % 6) {
      current += Int64(input.byte())
      var events: [JSONValue] = []
      var expected: [EtcdV3WatchEvent] = []
      for _ in 0..<Int(input.byte() % 4) {
        let delete = input.bool()
        let key = Array(input.take(Int(input.byte() % 24)))
        let value = delete ? [] : Array(input.take(Int(input.byte() % 24)))
        let create = Int64(input.u16())
        let version = Int64(input.byte())
        let lease = Int64(bitPattern: input.u64())
        var kv = [JSONMember("key", .string(Data(key).base64EncodedString()))]
        if create != 0 { kv.append(JSONMember("create_revision", revision(create))) }
        kv.append(JSONMember("mod_revision", revision(current)))
        if version != 0 { kv.append(JSONMember("version", revision(version))) }
        if !value.isEmpty {
          kv.append(JSONMember("value", .string(Data(value).base64EncodedString())))
        }
        if lease != 0 { kv.append(JSONMember("lease", revision(lease))) }
        var event: [JSONMember] = []
        if delete { event.append(JSONMember("type", .string("DELETE"))) }
        event.append(JSONMember("kv", .object(kv)))
        events.append(.object(event))
        expected.append(
          EtcdV3WatchEvent(
            kind: delete ? .delete : .put,
            kv: EtcdKeyValue(
              key: String(decoding: key, as: UTF8.self),
              value: String(decoding: value, as: UTF8.self),
              createRevision: create, modRevision: current, version: version, lease: lease)))
      }
      var result = [header(current)]
      if !events.isEmpty { result.append(JSONMember("events", .array(events))) }
      line(.object([JSONMember("result", .object(result))]))
      messages.append(.result(EtcdV3WatchResponse(revision: current, events: expected)))
    }
    switch input.byte() % 5 {
    case 0:
      let compacted = Int64(input.u16()) + 1
      line(
        .object([
          JSONMember(
            "result",
            .object([
              header(current), JSONMember("compact_revision", revision(compacted)),
              JSONMember("canceled", .bool(true)),
            ]))
        ]))
      messages.append(.end(.compacted(compactRevision: compacted), answered: true))
    case 1:
      let reason = GeneratedJSON.string(&input)
      line(
        .object([
          JSONMember(
            "result",
            .object([
              header(current), JSONMember("canceled", .bool(true)),
              JSONMember("cancel_reason", .string(reason)),
            ]))
        ]))
      messages.append(
        .end(.v3(code: 0, message: "watch cancelled by etcd: \(reason)"), answered: true))
    case 2:
      let code = Int(input.byte())
      let message = GeneratedJSON.string(&input)
      line(
        .object([
          JSONMember(
            "error",
            .object([
              JSONMember("grpc_code", .int(Int64(code))), JSONMember("http_code", .int(503)),
              JSONMember("message", .string(message)),
            ]))
        ]))
      messages.append(.end(.v3(code: code, message: message), answered: false))
    default:
      break
    }
    if case .end = messages.last {
      // Whatever follows the end is never read.
      text += "garbage after the end\n"
    }
    return (Array(text.utf8), messages)
  }
}
