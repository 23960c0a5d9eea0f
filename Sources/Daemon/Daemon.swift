import Etcd
import FlannelCore
import Foundation
import Logging
import SubnetManager

/// flanneld's startup order (flannel-behaviour §8.1), for the etcd control plane: options,
/// external interface, previous subnet, network config (retried until usable), lease,
/// subnet.env, then follow the cluster until SIGTERM/SIGINT.
public enum Flanneld {
  public static let version = "v0.1.0-swift"

  /// Runs the daemon; returns the process exit status.
  public static func run(arguments: [String], environment: [String: String]) async -> Int32 {
    let program = arguments.first.map { ($0 as NSString).lastPathComponent } ?? "flanneld"
    let options: FlanneldOptions
    do {
      options = try FlanneldOptions.parse(
        arguments: Array(arguments.dropFirst()), environment: environment)
    } catch .flag(.helpRequested) {
      FileHandle.standardError.write(
        Data(GoFlagParser.usage(programName: program, specs: FlanneldFlags.specs).utf8))
      return 0
    } catch {
      FileHandle.standardError.write(
        Data(
          ("\(error)\n" + GoFlagParser.usage(programName: program, specs: FlanneldFlags.specs))
            .utf8))
      return 2
    }
    if options.kubeSubnetMgr {
      FileHandle.standardError.write(
        Data(
          ("-kube-subnet-mgr: this flanneld leases subnets from etcd only (Kubernetes node "
            + "podCIDRs are not supported); drop the flag and give -etcd-endpoints\n"
            + GoFlagParser.usage(programName: program, specs: FlanneldFlags.specs)).utf8))
      return 2
    }
    if options.showVersion {
      FileHandle.standardError.write(Data("\(version)\n".utf8))
      return 0
    }
    FlannelLogging.bootstrap(verbosity: options.verbosity)
    let logger = Logger(label: "flanneld")
    for problem in options.environmentErrors { logger.error("\(problem)") }
    if !options.positionalArguments.isEmpty {
      logger.warning(
        "Ignoring arguments after the flags: \(options.positionalArguments.joined(separator: " ")) (boolean flags take -name=false, not -name false)"
      )
    }

    let node: NodeStartup
    do {
      node = try NodeStartup(options: options, environment: environment, logger: logger)
    } catch {
      logger.critical("\(error)")
      return 1
    }
    // The node runs until it fails or a signal stops it, whichever comes first.
    return await withTaskGroup(of: Int32.self) { group in
      group.addTask { await node.run() }
      group.addTask {
        guard let number = await TerminationSignals.first() else { return 0 }
        logger.info("Received signal \(number == SIGTERM ? "SIGTERM" : "SIGINT"), shutting down")
        return 0
      }
      let status = await group.next() ?? 0
      group.cancelAll()
      await group.waitForAll()
      if status == 0 { logger.info("Exiting cleanly...") }
      return status
    }
  }
}
