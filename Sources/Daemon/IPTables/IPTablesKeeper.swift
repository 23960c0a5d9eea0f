import Dispatch
import FlannelCore
import Logging

/// Keeps flannel's iptables chains in place: `ensure()` once at startup, then `run(every:)`
/// checks them every `-iptables-resync` seconds and repairs each damaged chain set in one
/// `iptables-restore --noflush` transaction. Rules stay in place when the daemon exits.
public actor IPTablesKeeper {
  public struct Outcome: Sendable, Equatable {
    /// Chains rebuilt by this pass (empty: everything was in place).
    public var repaired: [String]
  }

  struct Flags {
    var ipMasq: Bool
    var forwardRules: Bool
    var randomFully: Bool
  }

  private var chainSets: [IPTablesChainSet]
  /// The flags `forFlanneld` was made with, for `update(network:subnet:)`.
  private let flags: Flags?
  private let commands: IPTablesCommands
  private let logger: Logger
  private let queue = DispatchQueue(label: "flanneld.iptables")
  public private(set) var passes = 0
  public private(set) var repairs = 0

  public init(chainSets: [IPTablesChainSet], commands: IPTablesCommands, logger: Logger) {
    self.init(chainSets: chainSets, flags: nil, commands: commands, logger: logger)
  }

  init(chainSets: [IPTablesChainSet], flags: Flags?, commands: IPTablesCommands, logger: Logger) {
    self.chainSets = chainSets
    self.flags = flags
    self.commands = commands
    self.logger = logger
  }

  /// The keeper for flanneld's options (-ip-masq, -ip-masq-fully-random-disable,
  /// -iptables-forward-rules), or nil when they ask for no rules. Probes `iptables
  /// --version` for `--random-fully`; a missing binary throws `.binaryNotFound`.
  public static func forFlanneld(
    options: FlanneldOptions, network: IPv4Network, subnet: IPv4Network,
    commands: IPTablesCommands = IPTablesCommands(), logger: Logger
  ) throws(IPTablesError) -> IPTablesKeeper? {
    guard options.ipMasq || options.iptablesForwardRules else { return nil }
    var randomFully = false
    if options.ipMasq && !options.ipMasqFullyRandomDisable {
      randomFully = try commands.version()?.supportsRandomFully ?? false
    }
    let sets = FlannelIPTablesRules.chainSets(
      network: network, subnet: subnet, ipMasq: options.ipMasq,
      forwardRules: options.iptablesForwardRules, randomFully: randomFully)
    return IPTablesKeeper(
      chainSets: sets,
      flags: Flags(
        ipMasq: options.ipMasq, forwardRules: options.iptablesForwardRules,
        randomFully: randomFully),
      commands: commands, logger: logger)
  }

  /// The keeper of the IPv6 rules (ip6tables) on a dual-stack network: the same options,
  /// chains and rules over the IPv6Network and the lease's IPv6 subnet (stock keeps both
  /// families with -ip-masq and -iptables-forward-rules; there is no separate switch).
  public static func forFlanneldIPv6(
    options: FlanneldOptions, network: IPv6Network, subnet: IPv6Network,
    commands: IPTablesCommands = .ipv6, logger: Logger
  ) throws(IPTablesError) -> IPTablesKeeper? {
    guard options.ipMasq || options.iptablesForwardRules else { return nil }
    var randomFully = false
    if options.ipMasq && !options.ipMasqFullyRandomDisable {
      randomFully = try commands.version()?.supportsRandomFully ?? false
    }
    let sets = FlannelIPTablesRules.chainSets(
      network: network, subnet: subnet, ipMasq: options.ipMasq,
      forwardRules: options.iptablesForwardRules, randomFully: randomFully)
    return IPTablesKeeper(
      chainSets: sets,
      flags: Flags(
        ipMasq: options.ipMasq, forwardRules: options.iptablesForwardRules,
        randomFully: randomFully),
      commands: commands, logger: logger)
  }

  /// A new IPv6 lease subnet (or network) for a keeper made by `forFlanneldIPv6`.
  public func update(network: IPv6Network, subnet: IPv6Network) {
    guard let flags else { return }
    chainSets = FlannelIPTablesRules.chainSets(
      network: network, subnet: subnet, ipMasq: flags.ipMasq, forwardRules: flags.forwardRules,
      randomFully: flags.randomFully)
  }

  /// A new lease subnet (or network) for a keeper made by `forFlanneld`; the next pass
  /// replaces the old rules.
  public func update(network: IPv4Network, subnet: IPv4Network) {
    guard let flags else { return }
    chainSets = FlannelIPTablesRules.chainSets(
      network: network, subnet: subnet, ipMasq: flags.ipMasq, forwardRules: flags.forwardRules,
      randomFully: flags.randomFully)
  }

  /// Replaces the expected rules (a new lease subnet); the next pass applies them.
  public func update(chainSets: [IPTablesChainSet]) {
    self.chainSets = chainSets
  }

  /// Checks every chain set and repairs the damaged ones. The iptables binaries run on a
  /// queue of the keeper's own, never blocking the Swift concurrency pool (a busy xtables
  /// lock can hold iptables-restore for seconds).
  @discardableResult
  public func ensure() async throws(IPTablesError) -> Outcome {
    passes += 1
    let sets = chainSets
    let commands = commands
    let logger = logger
    let result = await withCheckedContinuation { continuation in
      queue.async {
        continuation.resume(
          returning: Result { () throws(IPTablesError) -> Outcome in
            try Self.pass(sets, commands: commands, logger: logger)
          })
      }
    }
    let outcome = try result.get()
    repairs += outcome.repaired.count
    return outcome
  }

  static func pass(_ chainSets: [IPTablesChainSet], commands: IPTablesCommands, logger: Logger)
    throws(IPTablesError) -> Outcome
  {
    var repaired: [String] = []
    var saves: [String: IPTablesSave] = [:]
    for set in chainSets {
      if saves[set.table] == nil { saves[set.table] = try commands.save(table: set.table) }
      let finding = IPTablesRepairPlan.inspect(set, in: saves[set.table]!)
      guard !finding.problems.isEmpty else { continue }
      logger.info(
        "Some iptables rules are missing; deleting and recreating rules (\(finding.problems.joined(separator: "; ")))"
      )
      try commands.restore(IPTablesRepairPlan.rebuild(set, from: saves[set.table]!))
      saves[set.table] = nil
      repaired.append("\(set.table)/\(set.chain)")
    }
    return Outcome(repaired: repaired)
  }

  /// Resync loop until the task is cancelled. Errors are logged and retried next period; a
  /// missing binary is logged once and ends the loop (the daemon keeps running).
  /// `onPass` sees each successful pass (e.g. to count repairs in the metrics).
  public func run(
    every period: Duration, onPass: @Sendable (Outcome) -> Void = { _ in }
  ) async {
    while !Task.isCancelled {
      do {
        onPass(try await ensure())
      } catch .binaryNotFound(let name, let path) {
        logger.error("\(IPTablesError.binaryNotFound(name: name, path: path))")
        return
      } catch {
        logger.error("Failed to ensure iptables rules: \(error)")
      }
      do {
        try await Task.sleep(for: period)
      } catch {
        return
      }
    }
  }
}
