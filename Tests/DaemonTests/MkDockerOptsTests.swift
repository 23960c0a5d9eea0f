import Foundation
import Testing

/// Scripts/mk-docker-opts.sh, byte for byte, under dash (/bin/sh here) and bash.
@Suite struct MkDockerOptsTests {
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Scripts/mk-docker-opts.sh").path
  static let shells = ["/usr/bin/dash", "/usr/bin/bash"]

  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The -d file's bytes; nil when it does not exist.
    var output: String?
  }

  /// Runs the script in a fresh directory with only PATH (plus `environment`) set; `-d`
  /// defaults to `<dir>/out.env` and `-f` to `<dir>/subnet.env` holding `subnetEnv`.
  static func run(
    _ shell: String, _ flags: [String], subnetEnv: String?, environment: [String: String] = [:],
    wrapper: [String] = [], existingOutput: String? = nil
  ) throws -> Run {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "mkdo-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let envFile = directory.appendingPathComponent("subnet.env").path
    let outFile = directory.appendingPathComponent("out.env").path
    if let subnetEnv { try subnetEnv.write(toFile: envFile, atomically: true, encoding: .utf8) }
    if let existingOutput {
      try existingOutput.write(toFile: outFile, atomically: true, encoding: .utf8)
    }
    var arguments = flags
    if !flags.contains("-f") { arguments = ["-f", envFile] + arguments }
    if !flags.contains("-d") { arguments = ["-d", outFile] + arguments }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: wrapper.isEmpty ? shell : wrapper[0])
    process.arguments =
      Array(wrapper.dropFirst()) + (wrapper.isEmpty ? [] : [shell]) + [script]
      + arguments
    process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"].merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let written = flags.contains("-d") ? flags[flags.firstIndex(of: "-d")! + 1] : outFile
    return Run(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      stderr: String(decoding: stderr, as: UTF8.self),
      output: try? String(contentsOfFile: written, encoding: .utf8))
  }

  static let sample =
    "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n"

  @Test(arguments: shells)
  func referenceExample(shell: String) throws {
    let run = try Self.run(shell, [], subnetEnv: Self.sample)
    #expect(run.status == 0 && run.stdout.isEmpty && run.stderr.isEmpty)
    #expect(
      run.output == """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_IPMASQ="--ip-masq=true"
        DOCKER_OPT_MTU="--mtu=1472"
        DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"

        """)
  }

  /// A dual-stack subnet.env (FLANNEL_IPV6_NETWORK, FLANNEL_IPV6_SUBNET) gives exactly the
  /// IPv4 options: stock's script has no IPv6 option at any version.
  @Test(arguments: shells)
  func dualStackSubnetEnvAddsNoOption(shell: String) throws {
    let dualStack =
      "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\n"
      + "FLANNEL_IPV6_NETWORK=fd10::/56\nFLANNEL_IPV6_SUBNET=fd10:0:0:4a::1/64\n"
      + "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n"
    let run = try Self.run(shell, [], subnetEnv: dualStack)
    let reference = try Self.run(shell, [], subnetEnv: Self.sample)
    #expect(run.status == 0 && run.stderr.isEmpty)
    #expect(run.output != nil && run.output == reference.output)
  }

  @Test(arguments: shells)
  func distributionUnitForm(shell: String) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "mkdo-dist-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("docker").path
    let run = try Self.run(
      shell, ["-k", "DOCKER_NETWORK_OPTIONS", "-d", target],
      subnetEnv: Self.sample.replacingOccurrences(of: "IPMASQ=false", with: "IPMASQ=true"))
    #expect(run.status == 0)
    #expect(
      run.output == """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_IPMASQ="--ip-masq=false"
        DOCKER_OPT_MTU="--mtu=1472"
        DOCKER_NETWORK_OPTIONS=" --bip=10.1.74.1/24 --ip-masq=false --mtu=1472"

        """)
  }

  struct Combination: Sendable, CustomStringConvertible {
    var flags: [String]
    var ipMasq: Bool
    var description: String { "\(flags.joined(separator: " ")) IPMASQ=\(ipMasq)" }
  }

  /// Every subset of -i/-c/-m, with and without -k, with FLANNEL_IPMASQ true and false.
  static let combinations: [Combination] = {
    var all: [Combination] = []
    for mask in 0..<8 {
      let base = [("-i", 1), ("-c", 2), ("-m", 4)].filter { mask & $0.1 != 0 }.map(\.0)
      for key in [[], ["-k", "DOCKER_NETWORK_OPTIONS"]] {
        for ipMasq in [true, false] { all.append(Combination(flags: base + key, ipMasq: ipMasq)) }
      }
    }
    return all
  }()

  @Test(arguments: combinations)
  func everyFlagCombination(_ c: Combination) throws {
    let masq = c.flags.contains("-m") ? nil : (c.ipMasq ? "--ip-masq=false" : "--ip-masq=true")
    let individual =
      "DOCKER_OPT_BIP=\"--bip=10.1.74.1/24\"\n"
      + (masq.map { "DOCKER_OPT_IPMASQ=\"\($0)\"\n" } ?? "") + "DOCKER_OPT_MTU=\"--mtu=1472\"\n"
    let key = c.flags.contains("-k") ? "DOCKER_NETWORK_OPTIONS" : "DOCKER_OPTS"
    let combined =
      "\(key)=\" --bip=10.1.74.1/24\(masq.map { " \($0)" } ?? "") --mtu=1472\"\n"
    let wantIndividual = c.flags.contains("-i") || !c.flags.contains("-c")
    let wantCombined = c.flags.contains("-c") || !c.flags.contains("-i")
    let expected = (wantIndividual ? individual : "") + (wantCombined ? combined : "")
    let env = Self.sample.replacingOccurrences(
      of: "IPMASQ=false", with: "IPMASQ=\(c.ipMasq)")
    for shell in Self.shells {
      let run = try Self.run(shell, c.flags, subnetEnv: env)
      #expect(run.status == 0, "\(shell): \(run.stderr)")
      #expect(run.output == expected, "\(shell)")
    }
  }

  struct Special: Sendable, CustomStringConvertible {
    var description: String
    var flags: [String] = []
    var subnetEnv: String?
    var environment: [String: String] = [:]
    var expected: String
  }

  static let specials: [Special] = [
    Special(
      description: "existing combined value from the environment comes first",
      subnetEnv: sample, environment: ["DOCKER_OPTS": "--debug"],
      expected: """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_IPMASQ="--ip-masq=true"
        DOCKER_OPT_MTU="--mtu=1472"
        DOCKER_OPTS="--debug  --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"

        """),
    Special(
      description: "no env file: only the empty combined variable",
      subnetEnv: nil, expected: "DOCKER_OPTS=\"\"\n"),
    Special(
      description: "no env file, values from the environment",
      subnetEnv: nil, environment: ["FLANNEL_SUBNET": "10.5.1.1/24", "FLANNEL_MTU": "8951"],
      expected: """
        DOCKER_OPT_BIP="--bip=10.5.1.1/24"
        DOCKER_OPT_MTU="--mtu=8951"
        DOCKER_OPTS=" --bip=10.5.1.1/24 --mtu=8951"

        """),
    Special(
      description: "the file wins over the environment",
      subnetEnv: sample, environment: ["FLANNEL_SUBNET": "10.5.1.1/24"],
      expected: """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_IPMASQ="--ip-masq=true"
        DOCKER_OPT_MTU="--mtu=1472"
        DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"

        """),
    Special(
      description: "only what the file has", subnetEnv: "FLANNEL_SUBNET=10.1.74.1/24\n",
      expected: """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPTS=" --bip=10.1.74.1/24"

        """),
    Special(
      description: "other DOCKER_OPT_ variables join in name order",
      subnetEnv: sample, environment: ["DOCKER_OPT_DNS": "--dns=10.0.0.10"],
      expected: """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_DNS="--dns=10.0.0.10"
        DOCKER_OPT_IPMASQ="--ip-masq=true"
        DOCKER_OPT_MTU="--mtu=1472"
        DOCKER_OPTS=" --bip=10.1.74.1/24 --dns=10.0.0.10 --ip-masq=true --mtu=1472"

        """),
    Special(
      description: "-m skips FLANNEL_IPMASQ entirely, even an invalid one", flags: ["-m", "-c"],
      subnetEnv: sample.replacingOccurrences(of: "IPMASQ=false", with: "IPMASQ=maybe"),
      expected: "DOCKER_OPTS=\" --bip=10.1.74.1/24 --mtu=1472\"\n"),
  ]

  @Test(arguments: specials)
  func specialCases(_ s: Special) throws {
    for shell in Self.shells {
      let run = try Self.run(
        shell, s.flags, subnetEnv: s.subnetEnv, environment: s.environment,
        existingOutput: "OLD CONTENT\n")
      #expect(run.status == 0, "\(shell): \(run.stderr)")
      #expect(run.output == s.expected, "\(shell)")
    }
  }

  @Test(arguments: shells)
  func invalidIPMasqExitsOneAndWritesNothing(shell: String) throws {
    let run = try Self.run(
      shell, [], subnetEnv: Self.sample.replacingOccurrences(of: "IPMASQ=false", with: "IPMASQ=yes")
    )
    #expect(run.status == 1)
    #expect(run.stderr == "Invalid value of FLANNEL_IPMASQ: yes\n")
    #expect(run.output == nil)
  }

  @Test(arguments: [["-x"], ["-h"], ["-?"], ["-k"]])
  func usageErrorsExitOne(flags: [String]) throws {
    for shell in Self.shells {
      let run = try Self.run(shell, flags, subnetEnv: Self.sample, existingOutput: "KEEP\n")
      #expect(run.status == 1, "\(shell) \(flags)")
      #expect(run.stdout.isEmpty)
      #expect(run.stderr.contains("Usage: ") && run.stderr.contains("-k KEY"), "\(shell)")
      #expect(run.output == "KEEP\n", "the output file is left alone")
    }
  }

  /// Since flannel v0.18: a FLANNEL_SUBNET already routed through a gateway is refused
  /// (exit 1, after writing the file); a directly connected one is fine.
  @Test func routedSubnetIsRefused() throws {
    let ns = try OpsNamespace("mkdo")
    try ns.ip(
      """
      link add va0 type veth peer name vb0
      addr add 192.168.80.1/24 dev va0
      link set va0 up
      link set vb0 up
      addr add 10.1.75.1/24 dev vb0
      route add 10.1.74.0/24 via 192.168.80.2
      """)
    let routed = try Self.run(
      "/usr/bin/dash", [], subnetEnv: Self.sample,
      wrapper: ["/usr/sbin/ip", "netns", "exec", ns.name])
    #expect(routed.status == 1)
    #expect(routed.stderr == "Your routing table already contains the subnet: 10.1.74.0/24\n")
    #expect(
      routed.output?.hasSuffix("DOCKER_OPTS=\" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n")
        == true)
    let direct = try Self.run(
      "/usr/bin/dash", [],
      subnetEnv: Self.sample.replacingOccurrences(of: "10.1.74.1", with: "10.1.75.1"),
      wrapper: ["/usr/sbin/ip", "netns", "exec", ns.name])
    #expect(direct.status == 0, "\(direct.stderr)")
  }
}
