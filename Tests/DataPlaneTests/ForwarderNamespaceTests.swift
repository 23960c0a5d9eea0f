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
    "unknown source port dropped",
    "short datagram dropped", "empty datagram dropped", "IPv6 datagram dropped",
    "IHL 4 datagram dropped", "TTL 1 datagram dropped", "oversized datagram dropped",
    "nothing dropped reached the TUN", "valid datagram from known source written",
    "still forwarding", "route removed by update", "route restored by update",
    "no iou-wrk under a UDP flood", "UDP GSO sends several packets per SENDMSG",
    "UDP GRO receives several packets per datagram", "clean stop",
    "TUN gone after stop",
  ]

  @Test(.enabled(if: getuid() == 0, "needs root for network namespaces"))
  func forwarderBetweenTwoHosts() throws {
    #expect(FileManager.default.isExecutableFile(atPath: Self.probe), "build the probe first")
    let script = Self.root.appendingPathComponent("Scripts/dataplane-lab.sh").path
    // The script's verdicts are on stdout, which Shell.run drops on failure: keep the exit
    // status in the output instead.
    let output = try Shell.run(
      "/bin/bash", ["-c", "\"$0\" \"$1\" 2>&1; echo \"exit $?\"", script, Self.probe])
    let lines = output.split(separator: "\n").map(String.init)
    #expect(lines.last == "exit 0", "\(output)")
    for check in Self.expectedChecks {
      #expect(lines.contains { $0.hasPrefix("ok \(check)") }, "missing: ok \(check)\n\(output)")
    }
    #expect(!lines.contains { $0.hasPrefix("not ok") }, "\(output)")
  }
}
