/// The peers' timer deadlines, earliest first (a binary min-heap), so that `tick` visits only
/// the peers that are due and `nextDeadline` costs no scan of every peer.
///
/// Entries are never updated in place: a peer whose deadline changes gets a new entry, and
/// the owner skips entries that no longer match the peer's scheduled deadline (`isCurrent`).
struct DeadlineQueue {
  struct Entry {
    var deadline: Duration
    var peer: PublicKey
  }

  private(set) var entries: [Entry] = []

  var count: Int { entries.count }
  var first: Entry? { entries.first }

  mutating func insert(_ deadline: Duration, _ peer: PublicKey) {
    entries.append(Entry(deadline: deadline, peer: peer))
    var child = entries.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard entries[child].deadline < entries[parent].deadline else { break }
      entries.swapAt(child, parent)
      child = parent
    }
  }

  @discardableResult
  mutating func removeFirst() -> Entry? {
    guard !entries.isEmpty else { return nil }
    entries.swapAt(0, entries.count - 1)
    let first = entries.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < entries.count, entries[left].deadline < entries[smallest].deadline {
        smallest = left
      }
      if right < entries.count, entries[right].deadline < entries[smallest].deadline {
        smallest = right
      }
      guard smallest != parent else { break }
      entries.swapAt(parent, smallest)
      parent = smallest
    }
    return first
  }

  mutating func removeAll() { entries.removeAll(keepingCapacity: true) }
}
