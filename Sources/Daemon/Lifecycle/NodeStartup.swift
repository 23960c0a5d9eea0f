import Backends
import Etcd
import FlannelCore
import Foundation
import Logging
import SubnetManager

/// One node's control plane from config to lease, and the subnet.env that follows it.
struct NodeStartup: Sendable {
  let options: FlanneldOptions
  let logger: Logger
  let external: ExternalInterface
  let publicIP: IPv4Address
  let previousSubnet: IPv4Network?
  let waiter: NetworkConfigWaiter

  init(options: FlanneldOptions, logger: Logger) throws {
    self.options = options
    self.logger = logger
    external = try InterfaceSelector.select(
      ifaces: options.iface, publicIP: options.publicIP.isEmpty ? nil : options.publicIP)
    publicIP = external.publicIP
    logger.info(
      "Using interface with name \(external.name) and address \(external.address), MTU \(external.mtu)"
    )
    logger.info("Using \(external.publicIP) as external address")
    let previousText = try? AtomicFile.read(options.subnetFile)
    previousSubnet = previousText.flatMap(SubnetEnv.previousSubnet(in:))
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
    waiter = NetworkConfigWaiter(
      locator: locator, logger: logger,
      accept: { config in
        let type = backendOverride.isEmpty ? config.backend.type : backendOverride.lowercased()
        guard BackendRegistry.knownTypes.contains(type) else { throw UnknownBackend(type: type) }
      })
  }

  /// Returns the exit status: 0 when cancelled (a signal), 1 when startup failed.
  func run() async -> Int32 {
    let ready: NetworkConfigWaiter.Ready
    do {
      ready = try await waiter.wait()
    } catch {
      return 0
    }
    let config = ready.config
    let type = options.backend.isEmpty ? config.backend.type : options.backend.lowercased()
    if !options.backend.isEmpty && type != config.backend.type {
      logger.warning(
        "-backend \(options.backend) overrides the config's backend \(config.backend.type): every node of the cluster must use the same backend"
      )
    }
    logger.info(
      "Network config through etcd \(ready.registry.apiName): Network \(config.network), SubnetLen \(config.subnetLen), SubnetMin \(config.subnetMin), SubnetMax \(config.subnetMax), backend \(type)"
    )
    let context = BackendContext(
      external: external, network: config, logger: logger, portOverride: options.port,
      udpAcceptAnySource: options.udpAcceptAnySource)
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
      publicIP: publicIP, backendType: attributes.backendType,
      backendData: attributes.backendData, previousSubnet: previousSubnet)
    configuration.renewMargin = options.renewMargin
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
    var written = writeSubnetFile(
      network: config.network, subnet: configured.subnet, mtu: attributes.mtu)
    for await update in manager.updates() {
      if let own = update.ownLease, own.subnet != configured.subnet {
        do {
          try await backend.configure(ownLease: own)
          configured = own
        } catch {
          logger.error("Reconfiguring the backend for the new lease \(own.subnet) failed: \(error)")
        }
      }
      if let own = update.ownLease, own.subnet != written {
        written = writeSubnetFile(network: config.network, subnet: own.subnet, mtu: attributes.mtu)
      }
      await backend.apply(update)
    }
    // SIGTERM/SIGINT: stop loops; kernel state stays (stock ≥ v0.9).
    await backend.stop()
    await manager.stop()
    return 0
  }

  /// A write failure is a warning only (stock): the node keeps running.
  @discardableResult
  func writeSubnetFile(network: IPv4Network, subnet: IPv4Network, mtu: Int) -> IPv4Network? {
    let env = SubnetEnv(network: network, subnet: subnet, mtu: mtu, ipMasq: options.ipMasq)
    do {
      try AtomicFile.write(env.rendered(), to: options.subnetFile)
      logger.info("Wrote \(options.subnetFile): FLANNEL_SUBNET for \(subnet), MTU \(mtu)")
      return subnet
    } catch {
      logger.warning("Failed to write subnet file: \(error)")
      return nil
    }
  }
}
