import Testing

@testable import WireGuard

/// The three session slots and their transitions, as the kernel module and wireguard-go keep
/// them.
@Suite struct PeerSessionsTests {
  static func keys(_ index: UInt32, created: Duration = .seconds(10), initiator: Bool = true)
    -> TransportKeys
  {
    TransportKeys(
      sending: SecretKey.zero(), receiving: SecretKey.zero(), localIndex: index,
      remoteIndex: index + 100, isInitiator: initiator, created: created)
  }

  static func slots(_ sessions: PeerSessions) -> [UInt32?] {
    [sessions.current?.localIndex, sessions.previous?.localIndex, sessions.next?.localIndex]
  }

  @Test func initiatorSessionBecomesCurrentAndTheOldOnePrevious() {
    var sessions = PeerSessions()
    #expect(sessions.beginAsInitiator(Self.keys(1)).isEmpty)
    #expect(Self.slots(sessions) == [1, nil, nil])
    #expect(sessions.beginAsInitiator(Self.keys(2)).isEmpty)
    #expect(Self.slots(sessions) == [2, 1, nil])
    #expect(sessions.beginAsInitiator(Self.keys(3)).map(\.localIndex) == [1])
    #expect(Self.slots(sessions) == [3, 2, nil])
    #expect(sessions.sending?.localIndex == 3)
    #expect(sessions.receiving.map(\.localIndex) == [3, 2])
  }

  @Test func responderSessionWaitsInNextUntilConfirmed() throws {
    var sessions = PeerSessions()
    _ = sessions.beginAsInitiator(Self.keys(1))
    _ = sessions.beginAsInitiator(Self.keys(2))
    // A response we sent drops previous; current keeps sending.
    #expect(sessions.beginAsResponder(Self.keys(5, initiator: false)).map(\.localIndex) == [1])
    #expect(Self.slots(sessions) == [2, nil, 5])
    #expect(sessions.sending?.localIndex == 2)
    #expect(sessions.receiving.map(\.localIndex) == [2, 5])
    // A transport message on another index confirms nothing.
    #expect(sessions.confirm(localIndex: 2) == nil)
    let confirmation = sessions.confirm(localIndex: 5)
    let (confirmed, dropped) = try #require(confirmation)
    #expect(confirmed.localIndex == 5 && dropped.isEmpty)
    #expect(Self.slots(sessions) == [5, 2, nil])
  }

  @Test func initiatorSessionOverAnUnconfirmedOneKeepsThatOneAsPrevious() {
    var sessions = PeerSessions()
    _ = sessions.beginAsInitiator(Self.keys(1))
    _ = sessions.beginAsResponder(Self.keys(5, initiator: false))
    // The peer may already send on 5; the old current goes.
    #expect(sessions.beginAsInitiator(Self.keys(7)).map(\.localIndex) == [1])
    #expect(Self.slots(sessions) == [7, 5, nil])
    // A newer response replaces an unconfirmed one.
    #expect(sessions.beginAsResponder(Self.keys(8, initiator: false)).map(\.localIndex) == [5])
    #expect(Self.slots(sessions) == [7, nil, 8])
  }

  @Test func expiryDropsEverySessionRejectAfterTimeOld() {
    var sessions = PeerSessions()
    _ = sessions.beginAsInitiator(Self.keys(1, created: .seconds(0)))
    _ = sessions.beginAsInitiator(Self.keys(2, created: .seconds(100)))
    #expect(sessions.earliestExpiry == .seconds(180))
    #expect(sessions.dropExpired(now: .milliseconds(179_999)).isEmpty)
    #expect(sessions.dropExpired(now: .seconds(180)).map(\.localIndex) == [1])
    #expect(Self.slots(sessions) == [2, nil, nil])
    _ = sessions.beginAsResponder(Self.keys(3, created: .seconds(200), initiator: false))
    // The current one expires (PeerTimers' expireSession); the newer next stays.
    #expect(sessions.expireCurrent(now: .seconds(280)).map(\.localIndex) == [2])
    #expect(Self.slots(sessions) == [nil, nil, 3])
    #expect(sessions.sending == nil)
    #expect(sessions.removeAll().map(\.localIndex) == [3])
    #expect(sessions.isEmpty && sessions.earliestExpiry == nil)
  }

  @Test func deadlineQueueGivesTheEarliestFirst() {
    var queue = DeadlineQueue()
    let peer = try! PublicKey(bytes: [UInt8](repeating: 1, count: 32))
    let deadlines = [50, 3, 77, 3, 12, 99, 0, 41, 8, 64, 23]
    for ms in deadlines { queue.insert(.milliseconds(ms), peer) }
    var order: [Duration] = []
    while let entry = queue.removeFirst() { order.append(entry.deadline) }
    #expect(order == deadlines.sorted().map { .milliseconds($0) })
    #expect(queue.first == nil)
  }
}
