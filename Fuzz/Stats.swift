import Glibc

/// What the run checked, printed at exit: a run that never merged anything proves nothing,
/// and Scripts/fuzz.sh fails on it.
enum Stats {
  enum Source { case generatedRun, rawTrain, splitOutput }

  nonisolated(unsafe) static var roundTrips = 0
  nonisolated(unsafe) static var mergedSegments = 0
  nonisolated(unsafe) static var bySource: [Int] = [0, 0, 0]
  nonisolated(unsafe) static var rawSplits = 0

  static func record(_ source: Source, segments: Int) {
    roundTrips += 1
    mergedSegments += segments
    switch source {
    case .generatedRun: bySource[0] += 1
    case .rawTrain: bySource[1] += 1
    case .splitOutput: bySource[2] += 1
    }
  }

  static func report() {
    let line =
      "fuzz: round trips with >=2 merged segments: \(roundTrips) (\(mergedSegments) segments; "
      + "generated runs \(bySource[0]), raw trains \(bySource[1]), re-merged split output "
      + "\(bySource[2])); raw super-packets split: \(rawSplits)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
  }
}
