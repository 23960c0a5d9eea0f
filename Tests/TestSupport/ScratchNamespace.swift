import Foundation

/// A network namespace for one test (`ip netns add`), deleted again in deinit — also when
/// the test fails — taking every link, route and neighbour inside it along.
public final class ScratchNamespace: @unchecked Sendable {
  public let name: String
  nonisolated(unsafe) private static var counter = 0
  private static let lock = NSLock()

  public init(_ prefix: String = "sft") throws {
    let number = Self.lock.withLock {
      Self.counter += 1
      return Self.counter
    }
    name = "\(prefix)-\(getpid())-\(number)"
    try Shell.run("/usr/sbin/ip", ["netns", "add", name])
  }

  deinit {
    _ = try? Shell.run("/usr/sbin/ip", ["netns", "del", name])
  }

  /// Runs a program inside the namespace (`ip netns exec`).
  @discardableResult
  public func exec(_ program: String, _ arguments: [String], input: String? = nil) throws
    -> String
  {
    try Shell.run("/usr/sbin/ip", ["netns", "exec", name, program] + arguments, input: input)
  }

  /// `ip …` inside the namespace.
  @discardableResult
  public func ip(_ arguments: String...) throws -> String {
    try exec("/usr/sbin/ip", arguments)
  }

  /// An `ip -j …` / `bridge -j …` answer parsed as a JSON array of objects.
  public func json(_ program: String, _ arguments: [String]) throws -> [[String: Any]] {
    let text = try exec(program, arguments)
    if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return [] }
    return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
  }

  /// A product of this package next to the test bundle (`.build/debug/<name>`).
  public static func builtProduct(_ product: String) -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/\(product)").path
  }
}
