import Backends
import Testing

/// The udp backend's switches as the daemon parses them once: the flags' defaults, the
/// offload words, and refusals that name the flag.
@Suite struct UDPBackendOptionsTests {
  @Test func defaultsAreTheFlagsDefaults() throws {
    let parsed = try UDPBackend.Options.parse()
    #expect(parsed == UDPBackend.Options())
    #expect(parsed.acceptAnySource == false && parsed.offloads == .all && parsed.workers == 0)
    #expect(parsed.pollMicroseconds == 200)
  }

  @Test func valuesAreKept() throws {
    let parsed = try UDPBackend.Options.parse(
      acceptAnySource: true, offloads: "tso,udp-gro", workers: 64)
    #expect(parsed.acceptAnySource)
    // tso implies csum.
    #expect(parsed.offloads == [.checksum, .tcpSegmentation, .socketReceiveOffload])
    #expect(parsed.workers == 64)
    #expect(try UDPBackend.Options.parse(offloads: "none").offloads == [])
    #expect(try UDPBackend.Options.parse(pollMicroseconds: 1000).pollMicroseconds == 1000)
    #expect(try UDPBackend.Options.parse(pollMicroseconds: 0).pollMicroseconds == 0)
  }

  @Test(arguments: [-1, 1001])
  func pollOutOfRangeNamesTheFlag(_ microseconds: Int) {
    #expect(
      throws: UDPBackend.OptionError(
        flag: "udp-poll-usecs",
        message: "invalid value \(microseconds) for -udp-poll-usecs: use 0 (sleep as soon as "
          + "there is nothing to do) to 1000 microseconds")
    ) { try UDPBackend.Options.parse(pollMicroseconds: microseconds) }
  }

  @Test func unknownOffloadWordNamesTheFlag() {
    #expect(
      throws: UDPBackend.OptionError(
        flag: "udp-offloads",
        message: "invalid value \"tso,lro\" for -udp-offloads: use a comma-separated list of "
          + "csum, tso, uso, gro, udp-gso, udp-gro, or all / none")
    ) { try UDPBackend.Options.parse(offloads: "tso,lro") }
  }

  @Test(arguments: [-1, 65])
  func workersOutOfRangeNameTheFlag(_ workers: Int) {
    #expect(
      throws: UDPBackend.OptionError(
        flag: "udp-workers",
        message: "invalid value \(workers) for -udp-workers: use 1 to 64 forwarding threads, "
          + "or 0 for one per two online CPUs (at most 4)")
    ) { try UDPBackend.Options.parse(workers: workers) }
  }
}
