import Glibc

/// What the run checked, printed at exit: a run that never merged anything proves nothing,
/// and Scripts/fuzz.sh fails on it (for TCP and for UDP apart).
enum Stats {
  enum Source: Int { case generatedRun, rawTrain, splitOutput }

  /// Per protocol (0 TCP, 1 UDP): round trips, segments in them, round trips per source.
  nonisolated(unsafe) static var roundTrips = [0, 0]
  nonisolated(unsafe) static var mergedSegments = [0, 0]
  nonisolated(unsafe) static var bySource = [[0, 0, 0], [0, 0, 0]]
  nonisolated(unsafe) static var rawSplits = 0
  /// IPv6 packets that passed the check, and ICMPv6 replies built and verified.
  nonisolated(unsafe) static var ipv6Forwarded = 0
  nonisolated(unsafe) static var ipv6Replies = 0
  nonisolated(unsafe) static var ipv6Splits = 0
  /// IPv6 super-packets merged and split back byte for byte.
  nonisolated(unsafe) static var ipv6RoundTrips = 0

  static func record(_ source: Source, udp: Bool, segments: Int) {
    let p = udp ? 1 : 0
    roundTrips[p] += 1
    mergedSegments[p] += segments
    bySource[p][source.rawValue] += 1
  }

  static func report() {
    var text = ""
    for (p, name) in ["", "UDP "].enumerated() {
      text +=
        "fuzz: \(name)round trips with >=2 merged segments: \(roundTrips[p]) "
        + "(\(mergedSegments[p]) segments; generated runs \(bySource[p][0]), raw trains "
        + "\(bySource[p][1]), re-merged split output \(bySource[p][2]))\n"
    }
    text += "fuzz: raw super-packets split: \(rawSplits)\n"
    text +=
      "fuzz: IPv6 packets checked as forwardable: \(ipv6Forwarded), ICMPv6 replies verified: \(ipv6Replies), IPv6 super-packets split and verified: \(ipv6Splits), IPv6 merge round trips: \(ipv6RoundTrips)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
  }
}
