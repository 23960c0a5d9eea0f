import Backends
import Testing

@testable import Daemon

/// `-udp-offloads` (ours): "all" by default, FLANNELD_UDP_OFFLOADS as fallback, a list of
/// known words; anything else is refused at start with the words that would work.
@Suite struct UDPOffloadsFlagTests {
  @Test(
    arguments: [
      ([], [:], "all"),
      (["-udp-offloads=none"], [:], "none"),
      (["-udp-offloads=tso,gro,udp-gso"], [:], "tso,gro,udp-gso"),
      ([], ["FLANNELD_UDP_OFFLOADS": "udp-gso,udp-gro"], "udp-gso,udp-gro"),
      (["-udp-offloads=csum"], ["FLANNELD_UDP_OFFLOADS": "none"], "csum"),
    ] as [([String], [String: String], String)])
  func accepted(arguments: [String], environment: [String: String], value: String) throws {
    let options = try FlanneldOptions.parse(arguments: arguments, environment: environment)
    #expect(options.udp.offloads == UDPBackend.Options.Offloads(list: value))
  }

  @Test(
    arguments: [
      (["-udp-offloads=tso,lro"], [:], "tso,lro"),
      (["-udp-offloads=gso"], [:], "gso"),
      ([], ["FLANNELD_UDP_OFFLOADS": "yes"], "yes"),
    ] as [([String], [String: String], String)])
  func unknownWordIsRefusedWithTheFix(
    arguments: [String], environment: [String: String], value: String
  ) {
    let message =
      "invalid value \"\(value)\" for -udp-offloads: use a comma-separated list of csum, tso, "
      + "uso, gro, udp-gso, udp-gro, or all / none"
    #expect(throws: OptionsError.invalid(flag: "udp-offloads", message: message)) {
      try FlanneldOptions.parse(arguments: arguments, environment: environment)
    }
  }
}
