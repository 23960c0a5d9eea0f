@testable import FlannelCore

/// `JSONValue.parse` on arbitrary bytes, and the serializer on generated values: whatever
/// parses serializes to text that parses to the same value, and serializing again gives the
/// same bytes (our writes into etcd are stable).
enum JSONTarget: ParserTarget {
  static let name = "json"
  static let requiredChecks = ["parsed input round trip", "generated value round trip"]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    if let value = try? JSONValue.parse(text(bytes)) {
      roundTrip(value)
      Checks.count("parsed input round trip")
    }
    var input = FuzzInput(bytes)
    roundTrip(GeneratedJSON.value(&input))
    Checks.count("generated value round trip")
  }

  static func roundTrip(_ value: JSONValue) {
    let written = value.serialized()
    let reread: JSONValue
    do {
      reread = try JSONValue.parse(written)
    } catch {
      fatalError("property failed: serialized value does not parse: \(error) in \(written)")
    }
    require(sameJSON(value, reread), "parse(serialize(x)) != x: \(value) → \(written) → \(reread)")
    require(reread.serialized() == written, "serialization not stable: \(written)")
  }
}
