// daemon-probe: runs one operator-facing piece of the daemon in the current network
// namespace, for tests that run it under `ip netns exec` (the namespace is per thread, so
// tests never setns themselves). Not installed; not a product.
//
//   daemon-probe select [flanneld flags]            prints the chosen external interface
//   daemon-probe select6 [flanneld flags]           the same for a dual-stack network
//   daemon-probe iptables NETWORK SUBNET [flags]    ensures the rules, then resyncs until killed
//   daemon-probe iptables-update N S N2 S2 [flags]  ensures for N/S, then for a new lease N2/S2
//   daemon-probe ip6tables NETWORK6 SUBNET6 [flags] the IPv6 rules (ip6tables), then resyncs
import Daemon
import FlannelCore
import Foundation
import Logging

#if canImport(Glibc)
  import Glibc
#endif

LoggingSystem.bootstrap(StreamLogHandler.standardError)
let logger = Logger(label: "daemon-probe")

/// Unbuffered, so a test reading the pipe sees each line at once.
func say(_ line: String) {
  FileHandle.standardOutput.write(Data("\(line)\n".utf8))
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("\(message)\n".utf8))
  exit(1)
}

func options(_ arguments: ArraySlice<String>) -> FlanneldOptions {
  do {
    return try FlanneldOptions.parse(arguments: Array(arguments), environment: [:])
  } catch {
    fail("\(error)")
  }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fail("usage: daemon-probe select|iptables ...") }

switch arguments[1] {
case "select", "select6":
  let parsed = options(arguments.dropFirst(2))
  do {
    let chosen = try InterfaceSelector.select(
      options: parsed, dualStack: arguments[1] == "select6"
    ) { line in
      FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
    say(
      "name=\(chosen.name) index=\(chosen.index) address=\(chosen.address) public=\(chosen.publicIP) mtu=\(chosen.mtu)"
        + (chosen.ipv6Address.map { " address6=\($0)" } ?? "")
        + (chosen.publicIPv6.map { " public6=\($0)" } ?? "")
    )
  } catch {
    fail("\(error)")
  }

case "iptables":
  guard arguments.count >= 4, let network = IPv4Network(arguments[2]),
    let subnet = IPv4Network(arguments[3])
  else { fail("usage: daemon-probe iptables NETWORK SUBNET [flanneld flags]") }
  let parsed = options(arguments.dropFirst(4))
  // What the daemon does: the previous network and subnet come from the old subnet.env.
  if let text = try? String(contentsOfFile: parsed.subnetFile, encoding: .utf8) {
    let previous = SubnetEnv.variables(in: text)
    logger.info(
      "Previous FLANNEL_NETWORK \(previous["FLANNEL_NETWORK"] ?? "none"), FLANNEL_SUBNET \(previous["FLANNEL_SUBNET"] ?? "none")"
    )
  }
  do {
    guard
      let keeper = try IPTablesKeeper.forFlanneld(
        options: parsed, network: network, subnet: subnet, logger: logger)
    else {
      say("no rules wanted")
      exit(0)
    }
    let outcome = try await keeper.ensure()
    say("ensured repaired=\(outcome.repaired.joined(separator: ","))")
    await keeper.run(every: .seconds(parsed.iptablesResync)) { outcome in
      say("pass repaired=\(outcome.repaired.joined(separator: ","))")
    }
  } catch {
    say("error \(error)")
    fail("\(error)")
  }

case "iptables-update":
  guard arguments.count >= 6, let network = IPv4Network(arguments[2]),
    let subnet = IPv4Network(arguments[3]), let network2 = IPv4Network(arguments[4]),
    let subnet2 = IPv4Network(arguments[5])
  else { fail("usage: daemon-probe iptables-update N S N2 S2 [flanneld flags]") }
  let parsed = options(arguments.dropFirst(6))
  do {
    guard
      let keeper = try IPTablesKeeper.forFlanneld(
        options: parsed, network: network, subnet: subnet, logger: logger)
    else { fail("no rules wanted") }
    say("first repaired=\(try await keeper.ensure().repaired.joined(separator: ","))")
    await keeper.update(network: network2, subnet: subnet2)
    say("second repaired=\(try await keeper.ensure().repaired.joined(separator: ","))")
  } catch {
    fail("\(error)")
  }

case "ip6tables":
  guard arguments.count >= 4, let network = IPv6Network(arguments[2]),
    let subnet = IPv6Network(arguments[3])
  else { fail("usage: daemon-probe ip6tables NETWORK6 SUBNET6 [flanneld flags]") }
  let parsed = options(arguments.dropFirst(4))
  do {
    guard
      let keeper = try IPTablesKeeper.forFlanneldIPv6(
        options: parsed, network: network, subnet: subnet, logger: logger)
    else {
      say("no rules wanted")
      exit(0)
    }
    let outcome = try await keeper.ensure()
    say("ensured repaired=\(outcome.repaired.joined(separator: ","))")
    await keeper.run(every: .seconds(parsed.iptablesResync)) { outcome in
      say("pass repaired=\(outcome.repaired.joined(separator: ","))")
    }
  } catch {
    say("error \(error)")
    fail("\(error)")
  }

default:
  fail("unknown probe \(arguments[1])")
}
