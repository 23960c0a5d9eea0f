#if canImport(Glibc)
  import Glibc
#endif

/// The WireGuard tables one forwarder batch works with, built by the handshake thread and
/// swapped in whole (like `RouteSnapshot`): which peer an inner destination goes to (its
/// allowed network; the route's next hop is the peer's endpoint), the session each peer
/// seals with, and the sessions that may open what arrives, by our local index. Lookups touch
/// only memory the snapshot owns: no Swift arrays, dictionaries or retains per packet.
public final class TunnelSnapshot: @unchecked Sendable {
  // @unchecked: every stored property is written only in init and freed in deinit.

  /// One peer as this snapshot has it.
  public struct Peer: Sendable {
    public var peer: TunnelPeer
    /// Where its messages go: its lease's PublicIP and port (host order).
    public var endpointAddress: UInt32
    public var endpointPort: UInt16
    /// The inner addresses it owns (its lease's subnet; host order): packets to them are
    /// sealed for it, and only packets from them are accepted from it.
    public var allowedNetwork: UInt32
    public var allowedPrefixLength: Int
    /// The session it seals with (nil: none that may send; packets then wait for a handshake).
    public var sending: TunnelSession?
    /// Sessions whose messages are opened (current, previous, and a responder's unconfirmed).
    public var receiving: [TunnelSession]

    public init(
      peer: TunnelPeer, endpointAddress: UInt32, endpointPort: UInt16, allowedNetwork: UInt32,
      allowedPrefixLength: Int, sending: TunnelSession?, receiving: [TunnelSession]
    ) {
      self.peer = peer
      self.endpointAddress = endpointAddress
      self.endpointPort = endpointPort
      self.allowedNetwork = allowedNetwork
      self.allowedPrefixLength = allowedPrefixLength
      self.sending = sending
      self.receiving = receiving
    }
  }

  public let peers: [Peer]
  /// Inner destination → route index; the route's next hop is its peer's endpoint.
  let routes: RouteSnapshot
  /// Per route index: the peer's position in `peers`; per peer position: its route (-1: it
  /// lost its network to a later peer).
  private let routePeer: UnsafeMutablePointer<Int32>
  private let peerRoute: UnsafeMutablePointer<Int32>
  /// Per peer: its sending session, unretained (`peers` keeps it).
  let sending: UnsafeMutablePointer<Unmanaged<TunnelSession>?>
  private let peerObjects: UnsafeMutablePointer<Unmanaged<TunnelPeer>>
  private let allowedNetworks: UnsafeMutablePointer<UInt32>
  private let allowedMasks: UnsafeMutablePointer<UInt32>
  /// Receiving sessions sorted by local index, and each one's peer position.
  let receiveCount: Int
  private let receiveIndices: UnsafeMutablePointer<UInt32>
  let receiveSessions: UnsafeMutablePointer<Unmanaged<TunnelSession>>
  private let receivePeers: UnsafeMutablePointer<Int32>
  /// Peers by endpoint address (`address << 32 | position`, sorted).
  private let endpoints: UnsafeMutablePointer<UInt64>

  public static let empty = TunnelSnapshot([])

  /// Builds the tables. A peer whose allowed network another peer has too loses it to the
  /// later one (as `RouteSnapshot` keeps the last route of a network).
  public init(_ peers: [Peer]) {
    self.peers = peers
    let count = peers.count
    routes = RouteSnapshot(
      peers.map {
        Route(
          network: $0.allowedNetwork, prefixLength: $0.allowedPrefixLength,
          nextHop: $0.endpointAddress, port: $0.endpointPort)
      })
    var byNetwork: [UInt64: Int32] = [:]
    for (position, peer) in peers.enumerated() {
      byNetwork[Self.networkKey(peer.allowedNetwork, peer.allowedPrefixLength)] = Int32(position)
    }
    routePeer = .allocate(capacity: max(routes.routes.count, 1))
    peerRoute = .allocate(capacity: max(count, 1))
    peerRoute.initialize(repeating: -1, count: max(count, 1))
    for (index, route) in routes.routes.enumerated() {
      let position = byNetwork[Self.networkKey(route.network, route.prefixLength)] ?? -1
      routePeer[index] = position
      if position >= 0 { peerRoute[Int(position)] = Int32(index) }
    }
    sending = .allocate(capacity: max(count, 1))
    peerObjects = .allocate(capacity: max(count, 1))
    allowedNetworks = .allocate(capacity: max(count, 1))
    allowedMasks = .allocate(capacity: max(count, 1))
    var receivers: [(index: UInt32, session: TunnelSession, peer: Int32)] = []
    for (position, peer) in peers.enumerated() {
      sending[position] = peer.sending.map { Unmanaged.passUnretained($0) }
      peerObjects[position] = Unmanaged.passUnretained(peer.peer)
      let mask = Self.mask(peer.allowedPrefixLength)
      allowedMasks[position] = mask
      allowedNetworks[position] = peer.allowedNetwork & mask
      for session in peer.receiving {
        receivers.append((session.keys.localIndex, session, Int32(position)))
      }
    }
    endpoints = .allocate(capacity: max(count, 1))
    let endpointKeys = peers.enumerated().map {
      UInt64($0.element.endpointAddress) << 32 | UInt64($0.offset)
    }.sorted()
    for (i, key) in endpointKeys.enumerated() { endpoints[i] = key }
    receivers.sort { $0.index < $1.index }
    receiveCount = receivers.count
    receiveIndices = .allocate(capacity: max(receiveCount, 1))
    receiveSessions = .allocate(capacity: max(receiveCount, 1))
    receivePeers = .allocate(capacity: max(receiveCount, 1))
    for (i, entry) in receivers.enumerated() {
      receiveIndices[i] = entry.index
      receiveSessions[i] = Unmanaged.passUnretained(entry.session)
      receivePeers[i] = entry.peer
    }
  }

  deinit {
    routePeer.deallocate()
    peerRoute.deallocate()
    sending.deallocate()
    peerObjects.deallocate()
    allowedNetworks.deallocate()
    allowedMasks.deallocate()
    receiveIndices.deallocate()
    receiveSessions.deallocate()
    receivePeers.deallocate()
    endpoints.deallocate()
  }

  private static func networkKey(_ network: UInt32, _ prefixLength: Int) -> UInt64 {
    UInt64(network & mask(prefixLength)) << 8 | UInt64(prefixLength & 0xff)
  }

  static func mask(_ prefixLength: Int) -> UInt32 {
    prefixLength <= 0 ? 0 : UInt32.max << UInt32(32 - min(prefixLength, 32))
  }

  /// The peer position a route index leads to (-1: none).
  @inline(__always)
  func peer(ofRoute index: Int) -> Int { Int(routePeer[index]) }

  /// The route index of the peer at `position` (-1: none).
  @inline(__always)
  func route(ofPeer position: Int) -> Int { Int(peerRoute[position]) }

  @inline(__always)
  func peerObject(_ position: Int) -> TunnelPeer {
    peerObjects[position].takeUnretainedValue()
  }

  /// Whether inner address `source` (host order) belongs to the peer at `position`: what it
  /// may send us (cryptokey routing).
  @inline(__always)
  func allows(_ source: UInt32, fromPeer position: Int) -> Bool {
    source & allowedMasks[position] == allowedNetworks[position]
  }

  /// The receive entry of local index `index`, or -1.
  @inline(__always)
  func receiveEntry(_ index: UInt32) -> Int {
    var low = 0
    var high = receiveCount
    while low < high {
      let mid = (low &+ high) >> 1
      if receiveIndices[mid] < index { low = mid &+ 1 } else { high = mid }
    }
    return low < receiveCount && receiveIndices[low] == index ? low : -1
  }

  @inline(__always)
  func receivePeer(_ entry: Int) -> Int { Int(receivePeers[entry]) }

  /// The position of a peer whose endpoint address is `address` (host order), or -1.
  func peer(atEndpoint address: UInt32) -> Int {
    let key = UInt64(address) << 32
    var low = 0
    var high = peers.count
    while low < high {
      let mid = (low &+ high) >> 1
      if endpoints[mid] < key { low = mid &+ 1 } else { high = mid }
    }
    guard low < peers.count, endpoints[low] >> 32 == UInt64(address) else { return -1 }
    return Int(truncatingIfNeeded: endpoints[low] & 0xffff_ffff)
  }
}
