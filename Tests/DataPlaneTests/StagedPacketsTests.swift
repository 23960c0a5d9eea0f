import Testing

@testable import DataPlane

@Suite struct StagedPacketsTests {
  typealias Item = StagedPackets.Item

  static func item(_ id: Int) -> Item { Item(id: Int32(id), length: Int32(100 + id)) }

  /// Everything staged for `position`, taken out oldest first (ids).
  static func drain(_ staged: StagedPackets, _ position: Int) -> [Int32] {
    var ids: [Int32] = []
    while let item = staged.takeOldest(ofPeer: position) { ids.append(item.id) }
    return ids
  }

  @Test func eachPeerIsAFIFOOfItsOwn() {
    let staged = StagedPackets(capacity: 16, peers: 3)
    for (id, peer) in [(1, 0), (2, 2), (3, 0), (4, 2), (5, 0)] {
      #expect(staged.stage(Self.item(id), peer: peer) == nil)
    }
    #expect(staged.count == 5)
    #expect(staged.count(ofPeer: 0) == 3)
    #expect(staged.count(ofPeer: 1) == 0)
    #expect(staged.takeOldest(ofPeer: 0) == Self.item(1), "the length travels with the id")
    #expect(Self.drain(staged, 2) == [2, 4])
    #expect(Self.drain(staged, 0) == [3, 5])
    #expect(staged.isEmpty)
    #expect(staged.takeOldest(ofPeer: 1) == nil)
  }

  @Test func aFullPeerDropsItsOldestPacket() {
    // WireGuard's rule (MAX_STAGED_PACKETS): the newest packets are the ones kept.
    let staged = StagedPackets(capacity: 16, perPeer: 3, peers: 2)
    _ = staged.stage(Self.item(9), peer: 1)
    for id in 1...3 { #expect(staged.stage(Self.item(id), peer: 0) == nil) }
    #expect(staged.stage(Self.item(4), peer: 0) == Self.item(1))
    #expect(staged.stage(Self.item(5), peer: 0) == Self.item(2))
    #expect(Self.drain(staged, 0) == [3, 4, 5])
    #expect(Self.drain(staged, 1) == [9], "other peers untouched")
  }

  @Test func aFullPoolDropsTheOldestPacketOfAll() {
    let staged = StagedPackets(capacity: 4, perPeer: 4, peers: 3)
    for (id, peer) in [(1, 0), (2, 1), (3, 0), (4, 1)] {
      #expect(staged.stage(Self.item(id), peer: peer) == nil)
    }
    // Peer 2 has nothing staged: the pool's oldest (peer 0's first) makes room.
    #expect(staged.stage(Self.item(5), peer: 2) == Self.item(1))
    #expect(staged.stage(Self.item(6), peer: 2) == Self.item(2))
    #expect(staged.count == 4)
    #expect(Self.drain(staged, 0) == [3])
    #expect(Self.drain(staged, 1) == [4])
    #expect(Self.drain(staged, 2) == [5, 6])
  }

  @Test func thePerPeerBoundNeverExceedsThePool() {
    let staged = StagedPackets(capacity: 8)
    #expect(staged.perPeer == 8)
    #expect(StagedPackets(capacity: 1024).perPeer == StagedPackets.wireGuardPerPeer)
  }

  @Test func slotsAreReusedWithoutEnd() {
    let staged = StagedPackets(capacity: 3, peers: 2)
    for round in 0..<100 {
      #expect(staged.stage(Self.item(round), peer: round % 2) == nil)
      #expect(staged.stage(Self.item(round + 1000), peer: round % 2) == nil)
      #expect(Self.drain(staged, round % 2) == [Int32(round), Int32(round + 1000)])
    }
    #expect(staged.isEmpty)
  }

  @Test func anOutOfRangePeerGetsTheItemBack() {
    let staged = StagedPackets(capacity: 4, peers: 1)
    #expect(staged.stage(Self.item(1), peer: 1) == Self.item(1))
    #expect(staged.stage(Self.item(2), peer: -1) == Self.item(2))
    #expect(staged.isEmpty)
  }

  @Test func remapCarriesQueuesAndDropsThoseOfGonePeers() {
    let staged = StagedPackets(capacity: 8, peers: 3)
    _ = staged.stage(Self.item(1), peer: 0, mark: 7)
    _ = staged.stage(Self.item(2), peer: 1)
    _ = staged.stage(Self.item(3), peer: 2)
    _ = staged.stage(Self.item(4), peer: 0, mark: 8)
    _ = staged.stage(Self.item(5), peer: 1)
    var discarded: [Int32] = []
    // Peer 0 moves to position 3, peer 1 is gone, peer 2 moves to 0.
    staged.remap(
      peers: 4, newPosition: { [0: 3, 1: -1, 2: 0][$0]! }, discarded: { discarded.append($0.id) })
    #expect(discarded == [2, 5], "oldest first")
    #expect(staged.count == 3)
    #expect(staged.mark(ofPeer: 3) == 7, "the mark of the queue's first packet")
    #expect(staged.count(ofPeer: 1) == 0)
    // The pool's age order survives: a full pool still drops the oldest (id 1).
    let small = StagedPackets(capacity: 2, peers: 2)
    _ = small.stage(Self.item(1), peer: 0)
    _ = small.stage(Self.item(2), peer: 1)
    small.remap(peers: 2, newPosition: { 1 - $0 }, discarded: { _ in })
    #expect(small.stage(Self.item(3), peer: 0) == Self.item(1))
    #expect(Self.drain(small, 0) == [2, 3])
    #expect(Self.drain(staged, 3) == [1, 4])
    #expect(Self.drain(staged, 0) == [3])
  }
}
