import Foundation
import TestSupport

/// One answer line of netlink-probe: `{"ok": …}` or `{"error": "…"}`.
struct ProbeAnswer {
  let json: [String: Any]

  var error: String? { json["error"] as? String }
  var ok: Any? { json["ok"] }
  var object: [String: Any] { ok as? [String: Any] ?? [:] }
  var array: [Any] { ok as? [Any] ?? [] }
  var succeeded: Bool { json.keys.contains("ok") }
}

/// Runs netlink-probe scripts in a namespace: the Netlink module's code, in the namespace,
/// in a process of its own (the namespace is per thread; ours belong to the test pool).
struct NetlinkProbe {
  let namespace: ScratchNamespace
  static let binary = ScratchNamespace.builtProduct("netlink-probe")

  /// One answer per script line.
  func run(_ lines: [String]) throws -> [ProbeAnswer] {
    let output = try namespace.exec(Self.binary, [], input: lines.joined(separator: "\n") + "\n")
    return try output.split(separator: "\n").map {
      ProbeAnswer(
        json: try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:])
    }
  }

  /// Runs the lines and requires every one to succeed; returns the last answer.
  @discardableResult
  func expectSuccess(_ lines: String...) throws -> ProbeAnswer {
    let answers = try run(lines)
    for (line, answer) in zip(lines, answers) where !answer.succeeded {
      throw ProbeFailure(description: "\(line) → \(answer.json)")
    }
    guard answers.count == lines.count, let last = answers.last else {
      throw ProbeFailure(description: "probe answered \(answers.count) of \(lines.count) lines")
    }
    return last
  }
}

struct ProbeFailure: Error, CustomStringConvertible {
  let description: String
}
