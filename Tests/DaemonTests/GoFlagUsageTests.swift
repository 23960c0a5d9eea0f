import Testing

@testable import Daemon

@Test func usageListsEveryFlagWithStockLayout() {
  let text = GoFlagParser.usage(programName: "/opt/bin/flanneld", specs: FlanneldFlags.specs)
  #expect(text.hasPrefix("Usage: /opt/bin/flanneld [OPTION]...\n"))
  for spec in FlanneldFlags.specs {
    #expect(text.contains("\n  -\(spec.name)"), "missing -\(spec.name)")
    #expect(text.contains(spec.usage), "missing usage of -\(spec.name)")
  }
  let expectedLines = [
    "  -etcd-endpoints string\n    \ta comma-delimited list of etcd endpoints "
      + "(default \"http://127.0.0.1:4001,http://127.0.0.1:2379\")\n",
    "  -ip-masq\n    \tsetup IP masquerade rule for traffic destined outside of overlay network\n",
    "  -iptables-forward-rules\n    \tadd default accept rules to FORWARD chain in iptables "
      + "(default true)\n",
    "  -subnet-lease-renew-margin int\n    \tsubnet lease renewal margin, in minutes, ranging "
      + "from 1 to 1439 (default 60)\n",
    "  -healthz-port int\n    \tthe port for healthz server to listen(0 to disable)\n",
    "  -v value\n    \tnumber for the log level verbosity\n",
    "  -iface value\n    \tinterface to use",
    "  -etcd-api string\n    \t",
  ]
  for line in expectedLines { #expect(text.contains(line), "missing: \(line)") }
}

@Test func usageIsSortedByName() {
  let text = GoFlagParser.usage(programName: "flanneld", specs: FlanneldFlags.specs)
  let names = text.split(separator: "\n").filter { $0.hasPrefix("  -") }
    .map { $0.dropFirst(3).split(separator: " ").first.map(String.init) ?? "" }
  #expect(names.count == FlanneldFlags.specs.count)
  #expect(names == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
  #expect(names.firstIndex(of: "version")! < names.firstIndex(of: "vmodule")!)
}

@Test func usageGoSpecialCases() {
  let specs = [
    FlagSpec(name: "x", kind: .bool, defaultValue: "false", usage: "one-letter bool"),
    FlagSpec(name: "file", kind: .string, defaultValue: "", usage: "read `path` first\nthen more"),
    FlagSpec(name: "n", kind: .int, defaultValue: "3", usage: "count"),
  ]
  #expect(
    GoFlagParser.usage(programName: "p", specs: specs)
      == """
      Usage: p [OPTION]...
        -file path
          \tread path first
          \tthen more
        -n int
          \tcount (default 3)
        -x\tone-letter bool

      """)
}
