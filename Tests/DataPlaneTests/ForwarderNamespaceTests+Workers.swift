import Foundation
import TestSupport
import Testing

/// Runs Scripts/udp-workers-check.sh: two hosts in network namespaces, our flanneld on each
/// with `-udp-workers=2` — a 2-queue flannel0, 12 parallel TCP streams intact (2 MB each),
/// datagrams from both workers' source ports, both directions of a ping and of one TCP stream
/// on one worker per host, and every worker of both hosts moved packets
/// (and with `-udp-workers=1` the single-queue TUN as before). With every TUN
/// offload on, host 1's underlay MTU is then lowered: a worker turns TSO/USO off while
/// running, which must be logged right then (not only at stop).
///
/// Part of the serialized ForwarderNamespaceTests suite on purpose: the namespace labs run one
/// after the other, so that their load does not starve timing-sensitive suites running
/// alongside (IPTablesNamespaceTests' repair deadline).
extension ForwarderNamespaceTests {
  @Test(
    .enabled(if: getuid() == 0, "needs root for network namespaces"),
    arguments: [(2, "none"), (1, "none"), (2, "all")])
  func udpBackendWorkersForwardParallelStreams(workers: Int, offloads: String) throws {
    let flanneld = ScratchNamespace.builtProduct("flanneld")
    #expect(FileManager.default.isExecutableFile(atPath: flanneld), "build flanneld first")
    let script = Self.root.appendingPathComponent("Scripts/udp-workers-check.sh").path
    let output = try Shell.run(
      "/bin/bash",
      [
        "-c",
        "STREAM_MB=2 WORKERS=\(workers) OFFLOADS=\(offloads) \"$0\" \"$1\" 2>&1; echo \"exit $?\"",
        script, flanneld,
      ])
    let lines = output.split(separator: "\n").map(String.init)
    #expect(lines.last == "exit 0", "\(output)")
    var expected = [
      "udp backend: \(workers) worker", "tun_flags", "container ping both ways",
      "12 parallel TCP streams (24 MB) arrived intact", "host 1 sent from",
      "host 1: every worker moved packets: worker0=",
      "host 2: every worker moved packets: worker0=",
      "udp workers check ok",
    ]
    if offloads != "none" {
      expected += [
        "TCP streams intact after host 1's underlay MTU dropped", "logged while running",
      ]
    }
    if workers > 1 {
      expected += [
        "numqueues \(workers)", "worker1=", "(steered by inner flow)",
        "host 1: 200 pings, requests and replies on one worker",
        "host 2: 200 pings, requests and replies on one worker",
        "host 1: one TCP stream, data and acknowledgements on one worker",
        "host 2: one TCP stream, data and acknowledgements on one worker",
      ]
    }
    for text in expected {
      #expect(lines.contains { $0.contains(text) }, "missing: \(text)\n\(output)")
    }
  }
}
