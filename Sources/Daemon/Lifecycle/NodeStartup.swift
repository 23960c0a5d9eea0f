import Backends
import CSystemShims
import Etcd
import FlannelCore
import Foundation
import Logging
import SubnetManager
import WireGuard

/// One node from config to running backend, in stock HEAD's startup order (§8.1): interface,
/// health server, network config (retried until usable), backend devices, lease, backend
/// configuration, iptables, subnet.env, ready (/readyz and sd_notify), then follow the cluster.
struct NodeStartup: Sendable {
  let options: FlanneldOptions
  let environment: [String: String]
  let logger: Logger
  /// The IPv4 choice made at startup, as stock logs it before reading the config; nil when
  /// it failed (`startupSelectionError`): an IPv6-only network needs no IPv4 address, and the
  /// node chooses again once the config says which families it has.
  let external: ExternalInterface?
  let startupSelectionError: (any Error)?
  let previousSubnet: IPv4Network?
  /// FLANNEL_IPV6_SUBNET of the previous subnet.env (used on dual-stack networks).
  let previousIPv6Subnet: IPv6Network?
  let waiter: NetworkConfigWaiter
  let metrics = FlannelMetrics()
  let debugPages = DebugPages()

  init(options: FlanneldOptions, environment: [String: String], logger: Logger) throws {
    self.options = options
    self.environment = environment
    self.logger = logger
    do {
      let chosen = try InterfaceSelector.select(options: options) { logger.info("\($0)") }
      InterfaceSelector.startupLogLines(chosen).forEach { logger.info("\($0)") }
      external = chosen
      startupSelectionError = nil
    } catch {
      // Not yet an error: an IPv6-only network needs no IPv4 address (stock chooses only
      // after reading the config); on a network with IPv4 the node stops with it then.
      logger.info(
        "No IPv4 interface to use (\(error)); choosing once the network config is read: an IPv6-only network (\"EnableIPv4\": false) needs none"
      )
      external = nil
      startupSelectionError = error
    }
    let previousText = try? AtomicFile.read(options.subnetFile)
    previousSubnet = previousText.flatMap(SubnetEnv.previousSubnet(in:))
    previousIPv6Subnet = previousText.flatMap(SubnetEnv.previousIPv6Subnet(in:))
    if let previousSubnet {
      logger.info("Previous subnet from \(options.subnetFile): \(previousSubnet)")
    }
    let etcd = EtcdClientConfig(
      endpoints: options.endpoints,
      caFile: options.etcdCAFile.isEmpty ? nil : options.etcdCAFile,
      certFile: options.etcdCertfile.isEmpty ? nil : options.etcdCertfile,
      keyFile: options.etcdKeyfile.isEmpty ? nil : options.etcdKeyfile,
      username: options.etcdUsername.isEmpty ? nil : options.etcdUsername,
      password: options.etcdPassword.isEmpty ? nil : options.etcdPassword)
    let locator = try NetworkConfigLocator(
      choice: options.etcdAPI, prefix: options.etcdPrefix, config: etcd)
    let backendOverride = options.backend
    let portOverride = options.port
    waiter = NetworkConfigWaiter(
      locator: locator, logger: logger,
      accept: { config in
        let type = backendOverride.isEmpty ? config.backend.type : backendOverride.lowercased()
        guard BackendRegistry.knownTypes.contains(type) else { throw UnknownBackend(type: type) }
        try BackendRegistry.validate(type: type, config: config, portOverride: portOverride)
        if let refusal = DualStackSupport.refusal(of: config, backendType: type) { throw refusal }
      })
  }

  /// Returns the exit status: 0 when cancelled (a signal), 1 when startup failed.
  func run() async -> Int32 {
    var health: HealthServer? = nil
    if options.healthzPort > 0 {
      do {
        health = try HealthServer(
          ip: options.healthzIP, port: options.healthzPort, metrics: metrics.registry.render,
          debugPage: debugPages.page)
      } catch {
        logger.critical("\(error)")
        return 1
      }
      logger.info("Start healthz server on \(health!.address)")
      health?.start()
    }
    defer { health?.stop() }

    let ready: NetworkConfigWaiter.Ready
    do {
      ready = try await waiter.wait()
    } catch {
      return 0
    }
    return await runNetwork(ready, health: health)
  }

  private func runNetwork(_ ready: NetworkConfigWaiter.Ready, health: HealthServer?) async
    -> Int32
  {
    let config = ready.config
    let type = options.backend.isEmpty ? config.backend.type : options.backend.lowercased()
    if !options.backend.isEmpty && type != config.backend.type {
      logger.warning(
        "-backend \(options.backend) overrides the config's backend \(config.backend.type): every node of the cluster must use the same backend"
      )
    }
    for warning in DualStackSupport.warnings(publicIPv6: options.publicIPv6, config: config) {
      logger.warning("\(warning)")
    }
    let external: ExternalInterface
    do {
      external = try chooseExternal(for: config)
    } catch {
      logger.critical("\(error)")
      return 1
    }
    logger.info(
      "Network config through etcd \(ready.registry.apiName): \(config.enableIPv4 ? "Network \(config.network), SubnetLen \(config.subnetLen), SubnetMin \(config.subnetMin), SubnetMax \(config.subnetMax), " : "")\(config.ipv6.map { "IPv6Network \($0.network), IPv6SubnetLen \($0.subnetLen), " } ?? "")backend \(type)"
    )
    var wireGuardKey: SecretKey?
    if type == "wireguard" {
      let path = WireGuardKeyFile.path(environment: environment)
      do {
        let (key, created) = try WireGuardKeyStore.loadOrCreate(path: path)
        logger.info(
          created
            ? "Created a WireGuard private key in \(path)"
            : "Using the WireGuard private key in \(path)")
        wireGuardKey = key
      } catch {
        logger.critical(
          "Failed to set up the wireguard backend: WireGuard private key file \(path): \(error) (remove the file to have a new key generated, or set \(WireGuardKeyFile.environmentVariable) to another path)"
        )
        return 1
      }
    }
    let context = BackendContext(
      external: external, network: config, logger: logger, portOverride: options.port,
      udp: options.udp, wireGuardPrivateKey: wireGuardKey)
    let backend: any Backend
    let attributes: BackendLeaseAttributes
    do {
      backend = try BackendRegistry.make(type: type, context: context)
      attributes = try await backend.prepare()
    } catch {
      logger.critical("Failed to set up the \(type) backend: \(error)")
      return 1
    }
    var configuration = SubnetManagerConfiguration(
      publicIP: external.publicIP, backendType: attributes.backendType,
      backendData: attributes.backendData, previousSubnet: previousSubnet)
    configuration.renewMargin = options.renewMargin
    if config.ipv6 != nil {
      configuration.publicIPv6 = external.publicIPv6
      configuration.backendV6Data = attributes.backendV6Data
      configuration.previousIPv6Subnet = previousIPv6Subnet
    }
    let manager = SubnetManager(
      registry: ready.registry, network: config, configuration: configuration, logger: logger)
    var configured: Lease
    do {
      configured = try await manager.start()
      try await backend.configure(ownLease: configured)
    } catch is CancellationError {
      return 0
    } catch {
      logger.critical("Failed to acquire a subnet lease: \(error)")
      await manager.stop()
      return 1
    }
    observeBackend(backend)

    // iptables before subnet.env (HEAD): rules are in place when Docker starts. A dual-stack
    // network gets the same rules through ip6tables.
    let ipv4Subnet = configured.subnet
    var keeper: (keeper: IPTablesKeeper?, loop: Task<Void, Never>?) = (nil, nil)
    if config.enableIPv4 {
      keeper = await startIPTables("iptables") { () throws(IPTablesError) in
        try IPTablesKeeper.forFlanneld(
          options: options, network: config.network, subnet: ipv4Subnet, logger: logger)
      }
    }
    var keeper6: (keeper: IPTablesKeeper?, loop: Task<Void, Never>?) = (nil, nil)
    if let ipv6 = config.ipv6, let ipv6Subnet = configured.ipv6Subnet {
      keeper6 = await startIPTables("ip6tables") { () throws(IPTablesError) in
        try IPTablesKeeper.forFlanneldIPv6(
          options: options, network: ipv6.network, subnet: ipv6Subnet, logger: logger)
      }
    }
    var written = writeSubnetFile(config: config, lease: configured, mtu: attributes.mtu)
    health?.markReady()
    notifySystemd()

    for await update in manager.updates() {
      if let own = update.ownLease, own.subnets != configured.subnets {
        do {
          try await backend.configure(ownLease: own)
          configured = own
          await keeper.keeper?.update(network: config.network, subnet: own.subnet)
          if let ipv6 = config.ipv6, let ipv6Subnet = own.ipv6Subnet {
            await keeper6.keeper?.update(network: ipv6.network, subnet: ipv6Subnet)
          }
        } catch {
          logger.error(
            "Reconfiguring the backend for the new lease \(own.subnets) failed: \(error)")
        }
      }
      if let own = update.ownLease, own.subnets != written {
        written = writeSubnetFile(config: config, lease: own, mtu: attributes.mtu)
      }
      await backend.apply(update)
      // A listing and a full reconcile leave megabytes of parsed JSON and netlink messages
      // freed but resident (5,000 vxlan leases: RSS 33.0 → 31.5 MiB); events leave next to
      // nothing.
      if update.reconcile { _ = flannel_malloc_trim() }
      metrics.update(lease: update.ownLease)
      metrics.update(leasesKnown: update.leaseCount)
      metrics.update(stats: await manager.stats)
    }
    // SIGTERM/SIGINT: stop loops; kernel state and iptables rules stay (stock ≥ v0.9).
    keeper.loop?.cancel()
    keeper6.loop?.cancel()
    await backend.stop()
    await manager.stop()
    return 0
  }

  /// The interface for `config`'s families: the startup choice on an IPv4 network; chosen
  /// again for both families on a dual-stack one (stock selects after reading the config)
  /// and for IPv6 alone on an IPv6-only one.
  private func chooseExternal(for config: NetworkConfig) throws -> ExternalInterface {
    if !config.enableIPv4 {
      let chosen = try InterfaceSelector.selectIPv6Only(options: options) {
        logger.info("\($0)")
      }
      InterfaceSelector.ipv6OnlyLogLines(chosen, publicIPv6Given: !options.publicIPv6.isEmpty)
        .forEach { logger.info("\($0)") }
      return chosen
    }
    guard let startup = self.external else {
      throw startupSelectionError ?? InterfaceSelectionError("no interface to use")
    }
    guard config.ipv6 != nil else { return startup }
    let chosen = try InterfaceSelector.select(options: options, dualStack: true) {
      logger.info("\($0)")
    }
    if chosen.name != startup.name || chosen.address != startup.address {
      // -public-ipv6 alone picks the interface that holds it.
      InterfaceSelector.startupLogLines(chosen).forEach { logger.info("\($0)") }
    } else if let ipv6 = chosen.ipv6Address, let publicIPv6 = chosen.publicIPv6 {
      logger.info("Using interface with name \(chosen.name) and v6 address \(ipv6)")
      logger.info("Using \(publicIPv6) as external v6 address")
    }
    return chosen
  }

  /// -ip-masq and the FORWARD rules of one family (`label`: iptables or ip6tables): one pass
  /// now, then a repair loop every -iptables-resync seconds. Failures (no binary, …) are
  /// logged; the node keeps running.
  private func startIPTables(
    _ label: String, make: () throws(IPTablesError) -> IPTablesKeeper?
  ) async -> (keeper: IPTablesKeeper?, loop: Task<Void, Never>?) {
    let keeper: IPTablesKeeper?
    do {
      keeper = try make()
    } catch {
      logger.error("\(label): \(error)")
      return (nil, nil)
    }
    guard let keeper else { return (nil, nil) }
    do {
      _ = try await keeper.ensure()
    } catch {
      logger.error("\(label): \(error)")
    }
    let period = Duration.seconds(max(options.iptablesResync, 1))
    return (keeper, Task { await keeper.run(every: period) })
  }

  /// The backend's metrics (the udp forwarders' counters, …), read at scrape time (never
  /// blocks a forwarder).
  private func observeBackend(_ backend: any Backend) {
    let metrics = self.metrics
    metrics.registry.onScrape { metrics.update(backend: backend.metrics()) }
    debugPages.set(backend.debugPages())
  }

  /// sd_notify READY=1 once subnet.env is written (also when writing it failed, as stock).
  private func notifySystemd() {
    do {
      if try SystemdNotifier.notify("READY=1", environment: environment) {
        logger.debug("Notified systemd: READY=1")
      }
    } catch {
      logger.error("Failed to notify systemd the message READY=1: \(error)")
    }
  }

  /// A write failure is a warning only (stock): the node keeps running. Returns the subnets
  /// written.
  @discardableResult
  func writeSubnetFile(config: NetworkConfig, lease: Lease, mtu: Int) -> LeaseSubnets? {
    let env = SubnetEnv(
      network: config.network, subnet: lease.subnet, mtu: mtu, ipMasq: options.ipMasq,
      enableIPv4: config.enableIPv4, ipv6Network: config.ipv6?.network,
      ipv6Subnet: config.ipv6 != nil ? lease.ipv6Subnet : nil)
    do {
      try AtomicFile.write(env.rendered(), to: options.subnetFile)
      logger.info(
        "Wrote \(options.subnetFile): FLANNEL_SUBNET for \(lease.subnets), MTU \(mtu)")
      return lease.subnets
    } catch {
      logger.warning("Failed to write subnet file: \(error)")
      return nil
    }
  }
}
