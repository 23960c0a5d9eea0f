import FlannelCore
import Logging
import SubnetManager
import WireGuard

/// One way of moving packets between nodes (udp, vxlan, host-gw). The daemon drives it:
///
///     let backend = try BackendRegistry.make(type, context)
///     let lease = try await backend.prepare()          // devices; what goes into our lease
///     … SubnetManager acquires the lease with `lease.backendType/backendData` …
///     try await backend.configure(ownLease:)          // again whenever the own lease changes
///     for await update in manager.updates() { await backend.apply(update) }
///     await backend.stop()                            // SIGTERM: never touches kernel state
///
/// A backend is the only place where a lease turns into kernel state or a forwarding entry.
public protocol Backend: AnyObject, Sendable {
  /// Creates or adopts devices that exist before the lease (the vxlan device and its MAC),
  /// and says what this node publishes in its lease and the MTU for subnet.env.
  func prepare() async throws -> BackendLeaseAttributes
  /// Sets up what depends on our own lease (addresses, the TUN, routes to the Network).
  func configure(ownLease: Lease) async throws
  /// Applies one update from the subnet manager: the first one carries the whole table.
  /// Failures are logged and retried by the backend itself; they never stop the daemon.
  func apply(_ update: LeaseUpdate) async
  /// Stops loops and threads. Kernel state stays (stock ≥ v0.9), except what dies with the
  /// process (the udp backend's TUN).
  func stop() async
  /// What the backend shows on /metrics, read at scrape time on the health server's thread:
  /// quick, never blocking on the Swift concurrency pool, never touching the packet path's
  /// locks. Families in the order /metrics lists them; none by default.
  func metrics() -> [BackendMetric]
  /// Text pages the backend serves under /debug/ on the health port, by path (the wireguard
  /// backend's `wg show`); rendered on a request, off the packet path. None by default.
  func debugPages() -> [String: @Sendable () -> String]
}

extension Backend {
  public func metrics() -> [BackendMetric] { [] }
  public func debugPages() -> [String: @Sendable () -> String] { [:] }
}

/// What a backend puts into the lease and subnet.env.
public struct BackendLeaseAttributes: Sendable, Equatable {
  /// BackendType in the lease ("" for udp, as stock writes none).
  public var backendType: String
  public var backendData: JSONValue?
  /// BackendV6Data on a dual-stack network (vxlan's IPv6 device); nil: none written.
  public var backendV6Data: JSONValue?
  /// FLANNEL_MTU.
  public var mtu: Int

  public init(
    backendType: String, backendData: JSONValue? = nil, backendV6Data: JSONValue? = nil, mtu: Int
  ) {
    self.backendType = backendType
    self.backendData = backendData
    self.backendV6Data = backendV6Data
    self.mtu = mtu
  }
}

/// Everything a backend is built from.
public struct BackendContext: Sendable {
  public var external: ExternalInterface
  public var network: NetworkConfig
  public var logger: Logger
  /// `-port` (0 = from the config's Backend.Port, else the backend's default).
  public var portOverride: Int
  /// `-udp-accept-any-source`, `-udp-offloads`, `-udp-workers`, `-udp-poll-usecs`, parsed by
  /// the daemon.
  public var udp: UDPBackend.Options
  /// vxlan and host-gw: routes through one nexthop object per lease where the kernel has
  /// them (linear instead of quadratic to program thousands, see `Nexthop`); false: plain
  /// routes, as stock programs them (the tests run both).
  public var routeNexthops: Bool
  /// wireguard: the node's private key, loaded (or generated) by the daemon from the key
  /// file before the backend is made; nil for the other backends.
  public var wireGuardPrivateKey: SecretKey?

  public init(
    external: ExternalInterface, network: NetworkConfig, logger: Logger, portOverride: Int = 0,
    udp: UDPBackend.Options = UDPBackend.Options(), routeNexthops: Bool = true,
    wireGuardPrivateKey: SecretKey? = nil
  ) {
    self.wireGuardPrivateKey = wireGuardPrivateKey
    self.external = external
    self.network = network
    self.logger = logger
    self.portOverride = portOverride
    self.udp = udp
    self.routeNexthops = routeNexthops
  }
}
