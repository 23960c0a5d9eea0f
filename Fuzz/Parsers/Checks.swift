import Glibc

/// Counts of the property checks that ran, printed at exit: a run whose round trips never
/// happened proves nothing, and Scripts/fuzz.sh fails on a required check that stayed at 0.
enum Checks {
  nonisolated(unsafe) static var counts: [String: Int] = [:]

  static func count(_ name: String) {
    counts[name, default: 0] += 1
  }

  static func report() {
    guard let target = selectedTarget else { return }
    var text = ""
    for name in counts.keys.sorted() {
      text += "fuzz: \(target.name) check \(name): \(counts[name]!)\n"
    }
    for name in target.requiredChecks where counts[name, default: 0] == 0 {
      text += "fuzz: \(target.name) UNEXERCISED: \(name)\n"
    }
    _ = text.withCString { write(2, $0, strlen($0)) }
  }
}

/// Traps when a property does not hold: libFuzzer keeps the input as a crash artifact and
/// Scripts/fuzz.sh fails. The message says which property and shows the values.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition { fatalError("property failed: \(message())") }
}

/// The input as text, the way our parsers receive it (invalid UTF-8 replaced by U+FFFD, as
/// curl's bytes and files are turned into Strings).
func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
  String(decoding: bytes, as: UTF8.self)
}
