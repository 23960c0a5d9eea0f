import Testing

@testable import DataPlane

#if canImport(Glibc)
  import Glibc
#endif

/// How consecutive tun → udp packets are grouped into UDP GSO sends.
@Suite struct SegmentRunsTests {
  /// Feeds (destination, length) packets with ids 0, 1, …; returns the runs as lists of ids
  /// and the segment size of each.
  static func group(
    _ packets: [(destination: UInt64, length: Int)], offloads: OffloadState = .init(active: .all),
    maxSegments: Int = 64
  ) -> [(ids: [Int], segmentSize: Int)] {
    let runs = SegmentRuns(capacity: packets.count, maxSegments: maxSegments)
    var result: [(ids: [Int], segmentSize: Int)] = []
    func collect() {
      guard let run = runs.take() else { return }
      var ids: [Int] = []
      var id = run.head
      while id >= 0 {
        ids.append(id)
        id = Int(runs.next[id])
      }
      #expect(ids.count == run.count)
      result.append((ids, run.segmentSize))
    }
    for (id, packet) in packets.enumerated() {
      if !runs.append(id, length: packet.length, destination: packet.destination) {
        collect()
        runs.start(
          id, length: packet.length, destination: packet.destination,
          mayGrow: offloads.runMayGrow(segmentSize: packet.length))
      }
    }
    collect()
    #expect(runs.isEmpty)
    return result
  }

  static let cases: [(String, [(destination: UInt64, length: Int)], [[Int]])] = [
    ("equal sizes, one peer: one run", [(1, 100), (1, 100), (1, 100)], [[0, 1, 2]]),
    ("a shorter tail joins and ends the run", [(1, 100), (1, 60), (1, 100)], [[0, 1], [2]]),
    ("a longer packet starts a new run", [(1, 60), (1, 100), (1, 100)], [[0], [1, 2]]),
    ("another peer starts a new run", [(1, 100), (2, 100), (1, 100)], [[0], [1], [2]]),
    ("single packet", [(7, 1472)], [[0]]),
  ]

  @Test(arguments: cases)
  func grouping(name: String, packets: [(destination: UInt64, length: Int)], expected: [[Int]]) {
    let runs = Self.group(packets)
    #expect(runs.map(\.ids) == expected, "\(name)")
    for run in runs {
      #expect(run.segmentSize == packets[run.ids[0]].length, "\(name): size of the first")
    }
  }

  @Test func segmentCountIsCapped() {
    let packets = Array(repeating: (destination: UInt64(1), length: 64), count: 70)
    #expect(Self.group(packets).map(\.ids.count) == [64, 6])
    #expect(Self.group(packets, maxSegments: 16).map(\.ids.count) == [16, 16, 16, 16, 6])
  }

  @Test func payloadIsCappedAtTheLargestDatagram() {
    // 44 × 1472 = 64 768 fits in 65 507 bytes, a 45th does not.
    let packets = Array(repeating: (destination: UInt64(1), length: 1472), count: 46)
    #expect(Self.group(packets).map(\.ids.count) == [44, 2])
  }

  @Test func packetsAboveTheRefusedSizeGoAlone() {
    var offloads = OffloadState(active: .all)
    _ = offloads.failed(.runSend(segments: 2, segmentSize: 1001), errno: EMSGSIZE)
    let packets: [(destination: UInt64, length: Int)] = [
      (1, 1400), (1, 1400), (1, 1000), (1, 1000), (1, 900), (1, 900),
    ]
    // 1400 goes alone; 1000 runs (900 joins as the shorter tail that ends a run).
    #expect(Self.group(packets, offloads: offloads).map(\.ids) == [[0], [1], [2, 3, 4], [5]])
  }

  @Test func withoutUDPGSOEveryPacketIsASendOfItsOwn() {
    let packets = Array(repeating: (destination: UInt64(1), length: 64), count: 3)
    let offloads = OffloadState(active: TunOffloads.all.subtracting(.socketSegmentation))
    #expect(Self.group(packets, offloads: offloads).map(\.ids) == [[0], [1], [2]])
  }
}
