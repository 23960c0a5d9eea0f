import Foundation
import Glibc

@testable import Etcd

/// The v2 `expiration` parser (`V2Time.parse`) against a reference written from Go's RFC 3339
/// rules (what etcd's own client accepts; lower-case `t`/`z` allowed too, as RFC 3339 does),
/// with glibc's `timegm` for the calendar: on arbitrary bytes both accept the same texts and
/// give the same instant; generated valid timestamps always parse to it.
enum V2TimeTarget: ParserTarget {
  static let name = "v2time"
  static let requiredChecks = ["input accepted by both", "generated timestamp"]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    compare(raw)
    var input = FuzzInput(bytes)
    let text = generatedTimestamp(&input)
    require(reference(text) != nil, "generator wrote an invalid timestamp \(text)")
    compare(text)
    Checks.count("generated timestamp")
  }

  static func compare(_ text: String) {
    let parsed = V2Time.parse(text)?.timeIntervalSince1970
    let expected = reference(text)
    switch (parsed, expected) {
    case (nil, nil): return
    case (let p?, let e?):
      require(
        abs(p - e) <= max(1e-6, 4 * e.ulp), "\(text) parsed as \(p), reference \(e)")
      Checks.count("input accepted by both")
    default:
      fatalError(
        "property failed: \(text.debugDescription) parsed as \(String(describing: parsed)), "
          + "reference \(String(describing: expected))")
    }
  }

  /// Seconds since the epoch per Go's `parseRFC3339`, or nil where Go refuses the text.
  static func reference(_ text: String) -> Double? {
    let b = Array(text.utf8)
    func number(_ at: Int, _ count: Int, _ range: ClosedRange<Int>) -> Int? {
      guard at + count <= b.count, b[at..<at + count].allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
        return nil
      }
      let value = b[at..<at + count].reduce(0) { $0 * 10 + Int($1 - 48) }
      return range.contains(value) ? value : nil
    }
    guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
      b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), b[13] == UInt8(ascii: ":"),
      b[16] == UInt8(ascii: ":"), let year = number(0, 4, 0...9999),
      let month = number(5, 2, 1...12),
      let day = number(8, 2, 1...daysIn(month: month, year: year)),
      let hour = number(11, 2, 0...23), let minute = number(14, 2, 0...59),
      let second = number(17, 2, 0...59)
    else { return nil }
    var i = 19
    var fraction = 0.0
    if i + 1 < b.count, b[i] == UInt8(ascii: "."), b[i + 1] >= 48, b[i + 1] <= 57 {
      i += 1
      var digits = ""
      while i < b.count, b[i] >= 48, b[i] <= 57 {
        digits.append(Character(Unicode.Scalar(b[i])))
        i += 1
      }
      fraction = Double("0." + digits)!
    }
    var offset = 0
    let zone = Array(b[i...])
    if zone == [UInt8(ascii: "Z")] || zone == [UInt8(ascii: "z")] {
      offset = 0
    } else if zone.count == 6, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"),
      zone[3] == UInt8(ascii: ":"), let hh = number(i + 1, 2, 0...23),
      let mm = number(i + 4, 2, 0...59)
    {
      offset = (hh * 3600 + mm * 60) * (zone[0] == UInt8(ascii: "+") ? 1 : -1)
    } else {
      return nil
    }
    var fields = tm()
    fields.tm_year = Int32(year - 1900)
    fields.tm_mon = Int32(month - 1)
    fields.tm_mday = Int32(day)
    fields.tm_hour = Int32(hour)
    fields.tm_min = Int32(minute)
    fields.tm_sec = Int32(second)
    return Double(timegm(&fields) - offset) + fraction
  }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// A valid timestamp in one of the shapes etcd writes (UTC with up to nine fractional
  /// digits, or an offset), over the whole four-digit year range.
  static func generatedTimestamp(_ input: inout FuzzInput) -> String {
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    let year = Int(input.u16()) % 10_000
    let month = Int(input.byte()) % 12 + 1
    let day = Int(input.byte()) % daysIn(month: month, year: year) + 1
    let yearText = String(repeating: "0", count: 4 - String(year).count) + String(year)
    var text =
      "\(yearText)-\(two(month))-\(two(day))T\(two(Int(input.byte()) % 24)):"
      + "\(two(Int(input.byte()) % 60)):\(two(Int(input.byte()) % 60))"
    let digits = Int(input.byte()) % 10
    if digits > 0 {
      text += "." + (0..<digits).map { _ in String(input.byte() % 10) }.joined()
    }
    switch input.byte() % 3 {
    case 0: text += "Z"
    case 1: text += "+\(two(Int(input.byte()) % 24)):\(two(Int(input.byte()) % 60))"
    default: text += "-\(two(Int(input.byte()) % 24)):\(two(Int(input.byte()) % 60))"
    }
    return text
  }
}
