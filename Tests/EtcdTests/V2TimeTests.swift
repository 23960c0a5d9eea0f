import Foundation
import Testing

@testable import Etcd

@Suite struct V2TimeTests {
  @Test(arguments: [
    ("1970-01-01T00:00:00Z", 0.0),
    ("2026-11-28T03:21:20Z", 1_795_836_080.0),
    ("2026-11-28T03:21:20.5Z", 1_795_836_080.5),
    ("2026-11-28T03:21:20.123456789Z", 1_795_836_080.123456789),
    ("2026-11-28T04:21:20+01:00", 1_795_836_080.0),
    ("2024-02-29T23:59:59-00:30", 1_709_252_999.0),
    ("2000-03-01T00:00:00Z", 951_868_800.0),
  ])
  func parsesRFC3339AsEtcdWritesIt(text: String, seconds: Double) throws {
    let date = try #require(V2Time.parse(text))
    #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
  }

  @Test func agreesWithFoundationOnWholeSeconds() throws {
    let formatter = ISO8601DateFormatter()
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<200 {
      let date = Date(
        timeIntervalSince1970: Double(Int64.random(in: 0...4_000_000_000, using: &rng)))
      let text = formatter.string(from: date)
      #expect(V2Time.parse(text) == date, "\(text)")
    }
  }

  @Test(arguments: [
    "", "2026-11-28", "2026-13-28T03:21:20Z", "2026-11-28T03:21:20", "2026-11-28 03:21:20Z",
    "2026-11-28T03:21:20Zjunk",
  ])
  func rejectsWhatIsNotRFC3339(text: String) {
    #expect(V2Time.parse(text) == nil)
  }

  // Findings of Fuzz/V2Time (a reference with Go's RFC 3339 rules): each of these was read
  // as some other instant instead of being refused.

  /// "2204-02-30" was read as 2204-03-01.
  @Test(arguments: [
    "2204-02-30T23:59:59.5-00:30", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z", "2026-11-31T00:00:00Z",
  ])
  func refusesADayItsMonthDoesNotHave(text: String) {
    #expect(V2Time.parse(text) == nil)
  }

  @Test func acceptsLeapDays() {
    #expect(V2Time.parse("2000-02-29T00:00:00Z") != nil)
    #expect(V2Time.parse("2024-02-29T00:00:00Z") != nil)
    #expect(V2Time.parse("2026-12-31T23:59:59Z") != nil)
  }

  /// Second 60 was read as the next minute's second 0; Go refuses it.
  @Test func refusesSecondSixty() {
    #expect(V2Time.parse("2026-11-28T03:21:60Z") == nil)
  }

  /// "20.Z" (a dot without digits) was read as "20Z".
  @Test func refusesAFractionWithoutDigits() {
    #expect(V2Time.parse("2026-11-28T03:21:20.Z") == nil)
    #expect(V2Time.parse("2026-11-28T03:21:20.+01:00") == nil)
  }

  /// "+99:99" was read as an offset of 100 hours 39 minutes.
  @Test(arguments: [
    "2026-11-28T03:21:20+24:00", "2026-11-28T03:21:20+01:60", "2026-11-28T03:21:20-99:99",
  ])
  func refusesAnOffsetOutOfRange(text: String) {
    #expect(V2Time.parse(text) == nil)
  }
}
