import Backends
import Testing

@Suite struct UDPWorkerCountTests {
  @Test(arguments: [
    (0, 1, 1), (0, 2, 1), (0, 3, 1), (0, 4, 2), (0, 6, 3), (0, 8, 4), (0, 96, 4), (0, 0, 1),
    (1, 8, 1), (2, 1, 2), (6, 2, 6), (64, 2, 64), (100, 2, 64),
  ])
  func count(requested: Int, cpus: Int, expected: Int) {
    #expect(UDPWorkerCount.resolve(requested: requested, onlineCPUs: cpus).count == expected)
  }

  @Test func reasonSaysWhereTheCountCameFrom() {
    #expect(
      UDPWorkerCount.resolve(requested: 0, onlineCPUs: 8).reason
        == "automatic: 8 online CPUs, one worker per 2, at most 4")
    #expect(
      UDPWorkerCount.resolve(requested: 0, onlineCPUs: 1).reason
        == "automatic: 1 online CPU, one worker per 2, at most 4")
    #expect(UDPWorkerCount.resolve(requested: 3, onlineCPUs: 8).reason == "-udp-workers=3")
  }

  @Test func onlineCPUsIsPositive() {
    #expect(UDPWorkerCount.onlineCPUs() >= 1)
  }
}
