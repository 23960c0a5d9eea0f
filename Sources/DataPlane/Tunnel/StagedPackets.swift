/// Packets waiting for a WireGuard session, one FIFO per peer, in a fixed pool of slots: what
/// WireGuard calls the staged packet queue (the kernel's `staged_packet_queue`, wireguard-go's
/// `queue.staged`). A packet to a peer with no session that may send waits here while the
/// handshake runs, and is sealed and sent, in order, once the session exists.
///
/// Bounds, as WireGuard's: at most `perPeer` packets per peer (MAX_STAGED_PACKETS, 128),
/// the oldest one dropped when a newer one comes; and, unlike WireGuard (which allocates),
/// at most `capacity` packets in all, whatever the number of peers: when the pool is full the
/// oldest packet of all is dropped, so a peer that never answers cannot keep others' packets
/// out for longer than it takes newer packets to arrive.
///
/// A slot holds what the caller needs to find the packet again (`Item`: a TUN buffer id and
/// the packet's length); the packets themselves stay where they are. Peers are positions in
/// the current `TunnelSnapshot`; `remap` carries the queues over to the next one.
///
/// Pure bookkeeping over memory allocated once (the per-peer heads when the peer count
/// changes, on a snapshot, never per packet): no allocation, no lock. One thread.
final class StagedPackets {
  /// MAX_STAGED_PACKETS of the kernel's WireGuard (wireguard-go's QueueStagedSize).
  static let wireGuardPerPeer = 128

  struct Item: Equatable {
    var id: Int32
    var length: Int32
  }

  let capacity: Int
  let perPeer: Int
  /// Packets staged now, over every peer.
  private(set) var count = 0

  // Per slot: the item, its peer, the next newer slot of the same peer, and the slots staged
  // just before and after it over all peers (the pool's age order). -1: none.
  private let items: UnsafeMutablePointer<Item>
  private let peerOf: UnsafeMutablePointer<Int32>
  private let nextOfPeer: UnsafeMutablePointer<Int32>
  private let older: UnsafeMutablePointer<Int32>
  private let newer: UnsafeMutablePointer<Int32>
  private var oldest: Int32 = -1
  private var newest: Int32 = -1
  /// Free slots, linked through `nextOfPeer`.
  private var free: Int32 = -1

  // Per peer position: its oldest and newest slot, how many, and the caller's mark (set when
  // the peer's queue was empty and a packet came: see `mark(ofPeer:)`).
  private var peerCount = 0
  private var heads: UnsafeMutablePointer<Int32>
  private var tails: UnsafeMutablePointer<Int32>
  private var counts: UnsafeMutablePointer<Int32>
  private var marks: UnsafeMutablePointer<UInt32>

  init(capacity: Int, perPeer: Int = StagedPackets.wireGuardPerPeer, peers: Int = 0) {
    self.capacity = max(capacity, 1)
    self.perPeer = max(1, min(perPeer, self.capacity))
    items = .allocate(capacity: self.capacity)
    items.initialize(repeating: Item(id: -1, length: 0), count: self.capacity)
    peerOf = .allocate(capacity: self.capacity)
    nextOfPeer = .allocate(capacity: self.capacity)
    older = .allocate(capacity: self.capacity)
    newer = .allocate(capacity: self.capacity)
    for slot in 0..<self.capacity {
      peerOf[slot] = -1
      older[slot] = -1
      newer[slot] = -1
      nextOfPeer[slot] = slot + 1 < self.capacity ? Int32(slot + 1) : -1
    }
    free = 0
    (heads, tails, counts, marks) = Self.peerArrays(max(peers, 0))
    peerCount = max(peers, 0)
  }

  deinit {
    items.deallocate()
    peerOf.deallocate()
    nextOfPeer.deallocate()
    older.deallocate()
    newer.deallocate()
    Self.free(heads, tails, counts, marks)
  }

  private static func peerArrays(_ n: Int) -> (
    UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>,
    UnsafeMutablePointer<UInt32>
  ) {
    let heads = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
    let tails = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
    let counts = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
    let marks = UnsafeMutablePointer<UInt32>.allocate(capacity: max(n, 1))
    heads.initialize(repeating: -1, count: max(n, 1))
    tails.initialize(repeating: -1, count: max(n, 1))
    counts.initialize(repeating: 0, count: max(n, 1))
    marks.initialize(repeating: 0, count: max(n, 1))
    return (heads, tails, counts, marks)
  }

  private static func free(
    _ heads: UnsafeMutablePointer<Int32>, _ tails: UnsafeMutablePointer<Int32>,
    _ counts: UnsafeMutablePointer<Int32>, _ marks: UnsafeMutablePointer<UInt32>
  ) {
    heads.deallocate()
    tails.deallocate()
    counts.deallocate()
    marks.deallocate()
  }

  var isEmpty: Bool { count == 0 }

  /// Packets staged for the peer at `position` (0 for a position this table does not have).
  @inline(__always)
  func count(ofPeer position: Int) -> Int {
    position >= 0 && position < peerCount ? Int(counts[position]) : 0
  }

  /// The mark given when the peer's queue last went from empty to one packet.
  func mark(ofPeer position: Int) -> UInt32 { marks[position] }

  /// Stages `item` behind the peer's other packets. Returns the packet it pushed out (the
  /// peer's oldest when the peer has `perPeer` already, else the pool's oldest when the pool
  /// is full), or nil. `mark` is kept when the peer had nothing staged. A position out of the
  /// table's range (a caller's bug) gives the item itself back: it is never staged.
  @inline(__always)
  func stage(_ item: Item, peer position: Int, mark: UInt32 = 0) -> Item? {
    guard position >= 0, position < peerCount else { return item }
    var evicted: Item? = nil
    if Int(counts[position]) >= perPeer {
      evicted = take(slot: heads[position])
    } else if free < 0 {
      evicted = take(slot: oldest)
    }
    let slot = free
    free = nextOfPeer[Int(slot)]
    let s = Int(slot)
    items[s] = item
    peerOf[s] = Int32(truncatingIfNeeded: position)
    nextOfPeer[s] = -1
    older[s] = newest
    newer[s] = -1
    if newest >= 0 { newer[Int(newest)] = slot } else { oldest = slot }
    newest = slot
    if tails[position] >= 0 {
      nextOfPeer[Int(tails[position])] = slot
    } else {
      heads[position] = slot
      marks[position] = mark
    }
    tails[position] = slot
    counts[position] &+= 1
    count &+= 1
    return evicted
  }

  /// The peer's oldest packet, taken out; nil when it has none.
  @inline(__always)
  func takeOldest(ofPeer position: Int) -> Item? {
    guard position >= 0, position < peerCount, heads[position] >= 0 else { return nil }
    return take(slot: heads[position])
  }

  /// Takes out the slot at the head of its peer's queue (only heads are ever taken: the pool's
  /// oldest slot is its peer's oldest too).
  @inline(__always)
  private func take(slot: Int32) -> Item {
    let s = Int(slot)
    let position = Int(peerOf[s])
    heads[position] = nextOfPeer[s]
    if heads[position] < 0 { tails[position] = -1 }
    counts[position] &-= 1
    if older[s] >= 0 { newer[Int(older[s])] = newer[s] } else { oldest = newer[s] }
    if newer[s] >= 0 { older[Int(newer[s])] = older[s] } else { newest = older[s] }
    let item = items[s]
    peerOf[s] = -1
    nextOfPeer[s] = free
    free = slot
    count &-= 1
    return item
  }

  /// Carries the queues over to a table of `peers` positions: the queue of position p goes to
  /// `newPosition(p)`; a queue whose peer is gone (-1) is emptied, each packet handed to
  /// `discarded`, oldest first. Per snapshot, not per packet.
  func remap(peers: Int, newPosition: (Int) -> Int, discarded: (Item) -> Void) {
    let old = (heads, tails, counts, marks)
    let oldCount = peerCount
    // Emptied first, while the old positions are still the table's.
    var moves: [(from: Int, to: Int)] = []
    for position in 0..<oldCount where old.2[position] > 0 {
      let target = newPosition(position)
      if target >= 0 && target < peers {
        moves.append((position, target))
      } else {
        while let item = takeOldest(ofPeer: position) { discarded(item) }
      }
    }
    (heads, tails, counts, marks) = Self.peerArrays(peers)
    peerCount = max(peers, 0)
    for (from, to) in moves {
      heads[to] = old.0[from]
      tails[to] = old.1[from]
      counts[to] = old.2[from]
      marks[to] = old.3[from]
      var slot = heads[to]
      while slot >= 0 {
        peerOf[Int(slot)] = Int32(truncatingIfNeeded: to)
        slot = nextOfPeer[Int(slot)]
      }
    }
    Self.free(old.0, old.1, old.2, old.3)
  }
}
