import DataPlane
import FlannelCore
import Foundation
import Logging
import Netlink
import SubnetManager
import Synchronization
import WireGuard

/// The wireguard backend (flannel-behaviour §6b), in user space: TUN `flannel-wg` ⇄ UDP on
/// `ListenPort`, every inner packet sealed into one WireGuard transport message, on the same
/// io_uring forwarders as the udp backend with a WireGuard step between (`TunnelCodec`); the
/// handshakes on a thread of their own (`WireGuardHandshakeLoop`). Stock's lease format and
/// device layout, so stock nodes (kernel WireGuard) and any WireGuard implementation
/// configured from the leases are peers.
public final class WireGuardBackend: Backend {
  let context: BackendContext
  let config: WireGuardBackendConfig
  let identity: StaticIdentity
  /// External MTU − 80 (stock's overhead).
  public let mtu: Int
  let netlink: NetlinkSocket
  let state: Mutex<State>

  struct State {
    var workers: UDPWorkers?
    var loop: WireGuardHandshakeLoop?
    var table: WireGuardPeerTable
  }

  public init(context: BackendContext) throws {
    self.context = context
    config = try WireGuardBackendConfig(context.network.backend)
    guard config.mode != .ipv6 else {
      throw WireGuardConfigError(
        field: "Mode",
        "Backend.Mode \"ipv6\" needs an IPv6 network, which this flanneld does not carry yet; "
          + "leave Mode out (\"separate\") for an IPv4 network")
    }
    guard let key = context.wireGuardPrivateKey else {
      throw WireGuardConfigError(
        field: "PrivateKey",
        "no WireGuard private key was loaded (the daemon reads it from "
          + "\(WireGuardKeyFile.defaultPath) or $\(WireGuardKeyFile.environmentVariable))")
    }
    identity = StaticIdentity(privateKey: key)
    mtu = config.deviceMTU(externalMTU: context.external.mtu)
    netlink = try NetlinkSocket()
    state = Mutex(State(table: WireGuardPeerTable(defaultPort: config.listenPort)))
  }

  /// The TUN offloads the tunnel uses: all of the udp backend's.
  static let tunOffloads: TunOffloads = .tunSide

  /// Our public key as the lease carries it.
  public var publicKey: String { identity.publicKey.base64Text }

  public func prepare() async throws -> BackendLeaseAttributes {
    let key = WireGuardKey(bytes: identity.publicKey.bytes)!
    return BackendLeaseAttributes(
      backendType: "wireguard",
      backendData: WireGuardLeaseData(publicKey: key, port: config.listenPort).json, mtu: mtu)
  }

  /// Creates flannel-wg for the lease (again, when the lease moved) as stock sets up its
  /// device: address `<lease network>/32`, MTU, up, route to the whole Network; the sockets
  /// on ListenPort; forwarders with the WireGuard step; the handshake thread.
  public func configure(ownLease: Lease) async throws {
    stopRunning()
    let inbox = try HandshakeInbox()
    var configuration = ForwarderConfiguration(tunAddress: ownLease.subnet.address.value)
    // The udp backend's offloads (`-udp-offloads` switches them alike): TSO/USO super-packets
    // from the TUN are cut and sealed into one transport message per packet, sent dozens per
    // syscall (UDP GSO); received trains (UDP GRO) are opened and a flow's packets written
    // into the TUN as one super-packet. Every worker sends from the listen port.
    configuration.tunnel = TunnelSettings(mtu: mtu, inbox: inbox)
    let tunOffloads = context.udp.offloads.intersection(Self.tunOffloads)
    configuration.tunOffloads = tunOffloads
    configuration.udpSegmentation = context.udp.offloads.contains(.socketSegmentation)
    configuration.udpReceiveOffload = context.udp.offloads.contains(.socketReceiveOffload)
    configuration.pollMicroseconds = context.udp.pollMicroseconds
    let count = UDPWorkerCount.resolve(requested: context.udp.workers)
    var workers = try UDPWorkers(
      count: count.count, tunName: "flannel-wg", virtioHeader: !tunOffloads.isEmpty,
      address: .ipv4(context.external.address.value), port: config.listenPort,
      configuration: configuration, steering: .receiverIndex)
    if let steeringError = workers.steeringError {
      // Without steering a session's messages could reach two workers, and its replay
      // window must have one writer: one worker then.
      context.logger.warning(
        "wireguard backend: cannot steer datagrams to workers by receiver index (\(steeringError)); using 1 worker"
      )
      workers.close()
      workers = try UDPWorkers(
        count: 1, tunName: "flannel-wg", virtioHeader: !tunOffloads.isEmpty,
        address: .ipv4(context.external.address.value), port: config.listenPort,
        configuration: configuration, steering: .receiverIndex)
    }
    let loop = WireGuardHandshakeLoop(
      identity: identity, inbox: inbox, forwarders: workers.forwarders,
      socketFD: workers.forwarders[0].socket.fd,
      presharedKey: try config.psk.map { try SecretKey(bytes: $0.bytes) },
      persistentKeepalive: .seconds(config.persistentKeepaliveInterval), logger: context.logger)
    let tun = workers.device
    do {
      try TunDeviceSetup.configure(
        tun, mtu: mtu, ipv4: (ownLease.subnet, context.network.network), netlink: netlink)
      let peers = state.withLock { s -> [WireGuardLeasePeer] in
        s.workers = workers
        s.loop = loop
        s.table.ownSubnet = ownLease.subnet
        return s.table.sorted
      }
      try workers.start()
      loop.start()
      loop.setPeers(peers)
      context.logger.info(
        "wireguard backend: \(tun.name) \(ownLease.subnet.address)/32 MTU \(mtu), route \(context.network.network) dev \(tun.name), UDP \(context.external.address):\(config.listenPort), \(workers.forwarders.count) worker(s), public key \(publicKey)\(config.psk == nil ? "" : ", with a preshared key")"
      )
    } catch {
      state.withLock { s in
        if s.workers === workers { (s.workers, s.loop) = (nil, nil) }
      }
      loop.stop()
      workers.stop()
      workers.close()
      throw error
    }
  }

  /// Applies lease events to the peer set and hands the handshake thread the new set.
  public func apply(_ update: LeaseUpdate) async {
    let (loop, peers) = state.withLock { s -> (WireGuardHandshakeLoop?, [WireGuardLeasePeer]?) in
      var changed = false
      for event in update.events {
        changed = s.table.apply(event, logger: context.logger) || changed
      }
      guard changed || update.reconcile else { return (nil, nil) }
      return (s.loop, s.table.sorted)
    }
    if let loop, let peers { loop.setPeers(peers) }
  }

  public func stop() async {
    stopRunning()
  }

  private func stopRunning() {
    let (workers, loop) = state.withLock { s in
      defer { (s.workers, s.loop) = (nil, nil) }
      return (s.workers, s.loop)
    }
    loop?.stop()
    workers?.stop()
    workers?.close()
  }
}
