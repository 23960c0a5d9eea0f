import Testing

@testable import WireGuard

@Suite struct HandshakeRateLimiterTests {
  @Test func allowsABurstOfFiveThenTwentyASecondPerAddress() {
    var limiter = HandshakeRateLimiter()
    let start = Duration.seconds(50)
    let burst = (0..<6).map { _ in limiter.allow(0x0a00_0001, now: start) }
    #expect(burst == [true, true, true, true, true, false])
    // Another address has its own bucket; one message's worth comes back every 50 ms.
    let steps = [
      limiter.allow(0x0a00_0002, now: start),
      limiter.allow(0x0a00_0001, now: start + .milliseconds(49)),
      limiter.allow(0x0a00_0001, now: start + .milliseconds(50)),
      limiter.allow(0x0a00_0001, now: start + .milliseconds(50)),
    ]
    #expect(steps == [true, false, true, false])
    // A quiet second refills the bucket (and forgets the idle address).
    let later = start + .seconds(2)
    let refilled = (0..<5).map { _ in limiter.allow(0x0a00_0001, now: later) }
    #expect(refilled == [true, true, true, true, true])
    #expect(limiter.trackedAddresses == 1)
  }

  @Test func underLoadAnAddressWithACookieIsStillRateLimited() throws {
    let pair = DevicePair()
    let (a, b) = (pair.a, pair.b)
    let t0 = Duration.seconds(1000)
    let first = try #require(sent(a.device.sendRequested(peer: b.publicKey, now: t0)).first)
    let reply = try #require(
      sent(b.device.receive(first, from: a.endpoint, now: t0, underLoad: true)).first)
    _ = a.device.receive(reply, from: b.endpoint, now: t0, underLoad: false)
    let retryAt = try #require(a.device.nextDeadline)
    let withCookie = try #require(sent(a.device.tick(now: retryAt)).first)
    var answers: [Int] = []
    for _ in 0..<6 {
      answers.append(
        sent(b.device.receive(withCookie, from: a.endpoint, now: retryAt, underLoad: true)).count)
    }
    // The first is answered; the next four pass the limiter and are refused as replays; the
    // sixth is refused before any Diffie-Hellman.
    #expect(answers == [1, 0, 0, 0, 0, 0])
    #expect(b.device.counters[dropped: .replayedTimestamp] == 4)
    #expect(b.device.counters[dropped: .rateLimited] == 1)
  }
}
