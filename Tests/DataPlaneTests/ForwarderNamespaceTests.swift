import Foundation
import TestSupport
import Testing

/// Runs Scripts/dataplane-lab.sh: two hosts and two containers in network namespaces, a real
/// Forwarder (udp-forwarder-probe) on each host, traffic through the kernel both ways.
@Suite(.serialized) struct ForwarderNamespaceTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static var probe: String {
    ProcessInfo.processInfo.environment["UDP_FORWARDER_PROBE"]
      ?? root.appendingPathComponent(".build/debug/udp-forwarder-probe").path
  }

  static let expectedChecks = [
    "forwarders start", "ping A to B", "ping B to A", "reply TTL 60", "wire format",
    "connect to unrouted subnet: ENETUNREACH", "ICMP net unreachable bytes",
    "counted icmpSent and dropNoRoute", "ping to an unrouted subnet: Destination Net Unreachable",
    "unknown source address dropped",
    "short datagram dropped", "empty datagram dropped", "IPv6 datagram dropped",
    "IHL 4 datagram dropped", "TTL 1 datagram dropped", "oversized datagram dropped",
    "nothing dropped reached the TUN", "valid datagram from known source written",
    "known source address from another port written",
    "still forwarding", "route removed by update", "route restored by update",
    "no iou-wrk under a UDP flood", "UDP GSO sends several packets per SENDMSG",
    "UDP GRO receives several packets per datagram", "clean stop",
    "TUN gone after stop", "TCP 30 MB A to B intact", "TCP 30 MB B to A intact",
    "UDP 2000 x 1400 B A to B intact", "UDP 2000 x 1400 B B to A intact",
    "UDP_SEGMENT 100 x 20 x 1400 B A to B intact", "UDP_SEGMENT 100 x 20 x 1400 B B to A intact",
    "underlay datagrams carry one IPv4 packet each",
  ]

  /// Plain: no virtio header on either TUN. Mixed: host A with every TUN offload (TSO
  /// super-packets split, virtio headers on every read and write, received UDP_SEGMENT
  /// trains written into the TUN as USO super-packets), host B without — a mixed cluster,
  /// traffic both ways. Workers: host A runs two forwarders on a 2-queue TUN (worker 1 sends
  /// from its own port), host B one — B must take A's datagrams from either port. Poll: host
  /// A's forwarders poll their rings before sleeping (`-udp-poll-usecs`), host B's do not.
  @Test(
    .enabled(if: getuid() == 0, "needs root for network namespaces"),
    arguments: [
      ("plain", ""), ("mixed", "--offloads all"), ("workers", "--workers 2"),
      ("poll", "--poll-usecs 200 --workers 2 --offloads all"),
    ])
  func forwarderBetweenTwoHosts(mode: String, hostAArguments: String) throws {
    #expect(FileManager.default.isExecutableFile(atPath: Self.probe), "build the probe first")
    let script = Self.root.appendingPathComponent("Scripts/dataplane-lab.sh").path
    // The script's verdicts are on stdout, which Shell.run drops on failure: keep the exit
    // status in the output instead.
    let output = try Shell.run(
      "/bin/bash",
      [
        "-c", "PROBE_ARGS_A=\"$2\" \"$0\" \"$1\" 2>&1; echo \"exit $?\"", script, Self.probe,
        hostAArguments,
      ])
    let lines = output.split(separator: "\n").map(String.init)
    #expect(lines.last == "exit 0", "\(output)")
    let expected =
      Self.expectedChecks
      + (mode == "mixed"
        ? ["TSO super-packets split on A", "UDP super-packets written to the TUN on A"] : [])
      + (mode == "poll" ? ["A's forwarders polled before sleeping"] : [])
    for check in expected {
      #expect(lines.contains { $0.hasPrefix("ok \(check)") }, "missing: ok \(check)\n\(output)")
    }
    #expect(!lines.contains { $0.hasPrefix("not ok") }, "\(output)")
  }
}
