import Foundation

@testable import Etcd
@testable import FlannelCore

/// The v2 keys API response and error decoding (`EtcdV2Response.decode`,
/// `EtcdV2Error.decode`) on arbitrary bytes and on generated responses: a response that
/// decodes, written back as etcd would write it, decodes to the same response; a generated
/// response (node trees, TTLs, expirations, arbitrary key and value text) decodes to exactly
/// what was written.
enum V2ResponseTarget: ParserTarget {
  static let name = "v2response"
  static let requiredChecks = ["decoded input round trip", "generated response"]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let body = Array(bytes)
    if let response = try? EtcdV2Response.decode(body, etcdIndex: 7, what: "fuzz") {
      let written = json(response)
      guard let reread = try? EtcdV2Response.decode(Array(written.utf8), etcdIndex: 7, what: "fuzz")
      else { fatalError("property failed: re-encoded response does not decode: \(written)") }
      require(same(reread, response), "decode(encode(r)) != r for \(written)")
      Checks.count("decoded input round trip")
    } else if let error = EtcdV2Error.decode(body, key: "/k", etcdIndex: 7) {
      // As the client does: an error document is looked for only in what is no response.
      _ = error.description
      Checks.count("decoded error document")
    }
    var input = FuzzInput(bytes)
    let generated = EtcdV2Response(
      action: GeneratedJSON.string(&input), node: input.bool() ? node(&input, depth: 0) : nil,
      prevNode: input.bool() ? node(&input, depth: 1) : nil, etcdIndex: 7)
    let written = json(generated)
    let decoded: EtcdV2Response
    do {
      decoded = try EtcdV2Response.decode(Array(written.utf8), etcdIndex: 7, what: "fuzz")
    } catch {
      fatalError("property failed: generated response refused: \(error)")
    }
    require(same(decoded, generated), "generated \(written) decoded as \(decoded)")
    Checks.count("generated response")
  }

  static func node(_ input: inout FuzzInput, depth: Int) -> EtcdV2Node {
    let dir = input.bool()
    let children =
      dir && depth < 2
      ? (0..<Int(input.byte() % 4)).map { _ in
        node(&input, depth: depth + 1)
      } : []
    let expiring = input.bool()
    return EtcdV2Node(
      key: "/" + GeneratedJSON.string(&input), value: dir ? nil : GeneratedJSON.string(&input),
      dir: dir, nodes: children, createdIndex: input.u64(), modifiedIndex: input.u64(),
      expiration: expiring ? Date(timeIntervalSince1970: Double(input.u32())) : nil,
      ttl: expiring ? Int64(bitPattern: input.u64()) : nil)
  }

  /// The response as etcd writes it (camelCase, fields without a value left out). Built as
  /// text: the UInt64 indexes do not fit a JSONValue integer.
  static func json(_ response: EtcdV2Response) -> String {
    var members = [#""action":"# + quoted(response.action)]
    if let node = response.node { members.append(#""node":"# + json(node)) }
    if let prev = response.prevNode { members.append(#""prevNode":"# + json(prev)) }
    return "{" + members.joined(separator: ",") + "}"
  }

  static func json(_ node: EtcdV2Node) -> String {
    var members = [#""key":"# + quoted(node.key)]
    if let value = node.value { members.append(#""value":"# + quoted(value)) }
    if node.dir { members.append(#""dir":true"#) }
    if !node.nodes.isEmpty {
      members.append(#""nodes":["# + node.nodes.map(json).joined(separator: ",") + "]")
    }
    if let expiration = node.expiration {
      members.append(#""expiration":"# + quoted(rfc3339(expiration)))
    }
    if let ttl = node.ttl { members.append(#""ttl":\#(ttl)"#) }
    members.append(#""modifiedIndex":\#(node.modifiedIndex)"#)
    members.append(#""createdIndex":\#(node.createdIndex)"#)
    return "{" + members.joined(separator: ",") + "}"
  }

  static func quoted(_ text: String) -> String { JSONValue.string(text).serialized() }

  /// UTC, nine fractional digits, as etcd writes a Go time.Time.
  static func rfc3339(_ date: Date) -> String {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    let nanos = Int((date.timeIntervalSince1970 - Double(seconds)) * 1e9)
    var fields = tm()
    gmtime_r(&seconds, &fields)
    func pad(_ n: Int32, _ width: Int) -> String {
      let s = String(n)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let nanoText = String(nanos)
    return
      "\(pad(fields.tm_year + 1900, 4))-\(pad(fields.tm_mon + 1, 2))-\(pad(fields.tm_mday, 2))T"
      + "\(pad(fields.tm_hour, 2)):\(pad(fields.tm_min, 2)):\(pad(fields.tm_sec, 2))."
      + String(repeating: "0", count: 9 - nanoText.count) + nanoText + "Z"
  }

  static func same(_ a: EtcdV2Response, _ b: EtcdV2Response) -> Bool {
    a.action == b.action && a.etcdIndex == b.etcdIndex && same(a.node, b.node)
      && same(a.prevNode, b.prevNode)
  }

  static func same(_ a: EtcdV2Node?, _ b: EtcdV2Node?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    let expirationsMatch: Bool =
      switch (a.expiration, b.expiration) {
      case (nil, nil): true
      case (let x?, let y?):
        abs(x.timeIntervalSince1970 - y.timeIntervalSince1970)
          <= max(1e-6, 4 * x.timeIntervalSince1970.ulp)
      default: false
      }
    return a.key == b.key && a.value == b.value && a.dir == b.dir && a.ttl == b.ttl
      && a.createdIndex == b.createdIndex && a.modifiedIndex == b.modifiedIndex
      && expirationsMatch && a.nodes.count == b.nodes.count
      && zip(a.nodes, b.nodes).allSatisfy { same($0, $1) }
  }
}
