import Testing

@testable import Backends

/// Offload notices that appear while the forwarders run are logged once each: the cursor
/// hands out only what is new since the previous poll.
@Suite struct NoticeCursorTests {
  @Test func eachNoticeOnceWithItsWorker() {
    var cursor = NoticeCursor(workers: 2)
    #expect(cursor.fresh([[], []]) == [])
    #expect(cursor.fresh([["TSO off"], []]) == ["worker 0: TSO off"])
    #expect(cursor.fresh([["TSO off"], []]) == [])
    #expect(
      cursor.fresh([["TSO off", "USO off"], ["TSO off"]])
        == ["worker 0: USO off", "worker 1: TSO off"])
    #expect(cursor.fresh([["TSO off", "USO off"], ["TSO off"]]) == [])
  }

  @Test func singleWorkerHasNoPrefix() {
    var cursor = NoticeCursor(workers: 1)
    #expect(cursor.fresh([["a", "b"]]) == ["a", "b"])
    #expect(cursor.fresh([["a", "b", "c"]]) == ["c"])
  }
}
