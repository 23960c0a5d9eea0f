import Testing

@testable import DataPlane

#if canImport(Glibc)
  import Glibc
#endif

/// Every row of what a refused offloaded operation means, including the refusals no kernel on
/// this machine produces (EIO from a device without checksum offload, EINVAL for a coalesced
/// write).
@Suite struct OffloadStateTests {
  struct Row: CustomTestStringConvertible, Sendable {
    var operation: OffloadState.Operation
    var errno: Int32
    var action: OffloadState.Action
    var turnedOff: TunOffloads
    var testDescription: String { "\(operation) errno \(errno)" }
  }

  static let gso: TunOffloads = [.socketSegmentation]
  static let tsoUSO: TunOffloads = [.tcpSegmentation, .udpSegmentation]

  static let rows: [Row] = [
    // A single-packet run was a plain send: nothing to fall back from.
    Row(
      operation: .runSend(segments: 1, segmentSize: 1400), errno: EIO, action: .drop,
      turnedOff: []),
    Row(
      operation: .runSend(segments: 3, segmentSize: 1400), errno: EIO,
      action: .resendEachPacket, turnedOff: gso.union(tsoUSO)),
    Row(
      operation: .runSend(segments: 3, segmentSize: 1400), errno: EMSGSIZE,
      action: .resendEachPacket, turnedOff: []),
    Row(
      operation: .runSend(segments: 3, segmentSize: 1400), errno: EINVAL,
      action: .resendEachPacket, turnedOff: []),
    Row(
      operation: .runSend(segments: 3, segmentSize: 1400), errno: ENETUNREACH, action: .drop,
      turnedOff: []),
    Row(operation: .splitSend, errno: EIO, action: .drop, turnedOff: gso.union(tsoUSO)),
    Row(operation: .splitSend, errno: EMSGSIZE, action: .drop, turnedOff: tsoUSO),
    Row(operation: .splitSend, errno: EINVAL, action: .drop, turnedOff: tsoUSO),
    Row(operation: .splitSend, errno: ECONNREFUSED, action: .drop, turnedOff: []),
    Row(operation: .coalescedWrite, errno: EINVAL, action: .drop, turnedOff: .receiveCoalescing),
    Row(operation: .coalescedWrite, errno: EIO, action: .drop, turnedOff: []),
    Row(operation: .write, errno: EINVAL, action: .drop, turnedOff: []),
  ]

  @Test(arguments: rows)
  func aRefusalDecidesOnceAndTheSecondChangesNothing(row: Row) {
    var state = OffloadState(active: .all)
    let decision = state.failed(row.operation, errno: row.errno)
    #expect(decision.action == row.action)
    #expect(decision.turnedOff == row.turnedOff)
    #expect(decision.tunFlagsChanged == !row.turnedOff.isDisjoint(with: Self.tsoUSO))
    #expect(state.active == TunOffloads.all.subtracting(row.turnedOff))
    #expect(state.groupsSends == !row.turnedOff.contains(.socketSegmentation))
    #expect(state.splitsSuperPackets == row.turnedOff.isDisjoint(with: Self.tsoUSO))
    #expect(state.coalescesTCP == !row.turnedOff.contains(.receiveCoalescing))
    // The same refusal again: same action, nothing more to turn off (one notice per offload).
    let again = state.failed(row.operation, errno: row.errno)
    #expect(again.action == row.action)
    #expect(again.turnedOff.isEmpty)
    let lines = OffloadState.notices(
      turnedOff: decision.turnedOff, after: row.operation, errno: row.errno)
    #expect(
      lines.count
        == [Self.tsoUSO, Self.gso, .receiveCoalescing].count {
          !$0.isDisjoint(with: row.turnedOff)
        })
    #expect(lines.allSatisfy { $0.contains("refused (errno \(row.errno))") })
  }

  @Test func aRefusedSegmentSizeKeepsLongerPacketsOutOfRunsAndSplits() {
    var state = OffloadState(active: .all)
    #expect(state.runMayGrow(segmentSize: 65_000))
    #expect(state.superPacketTooLong(segmentLength: 1400) == nil)
    _ = state.failed(.runSend(segments: 2, segmentSize: 1400), errno: EMSGSIZE)
    #expect(!state.runMayGrow(segmentSize: 1400))
    #expect(state.runMayGrow(segmentSize: 1399))
    #expect(state.superPacketTooLong(segmentLength: 1399) == nil)
    let decision = state.superPacketTooLong(segmentLength: 1400)
    #expect(decision == OffloadState.Decision(action: .drop, turnedOff: Self.tsoUSO))
    #expect(!state.splitsSuperPackets)
    #expect(state.groupsSends, "plain runs keep UDP GSO below the refused size")
    // A smaller refusal lowers the limit; a larger one never raises it.
    _ = state.failed(.runSend(segments: 2, segmentSize: 1000), errno: EMSGSIZE)
    _ = state.failed(.runSend(segments: 2, segmentSize: 1300), errno: EMSGSIZE)
    #expect(!state.runMayGrow(segmentSize: 1000))
    #expect(state.runMayGrow(segmentSize: 999))
  }

  @Test func withoutUDPGSOThereIsNoTSOOrUSO() {
    let state = OffloadState(active: TunOffloads.all.subtracting(Self.gso))
    #expect(!state.groupsSends)
    #expect(!state.splitsSuperPackets)
    #expect(!state.runMayGrow(segmentSize: 64))
    #expect(state.coalescesTCP)
    #expect(!state.coalescesUDP, "UDP coalescing needs the kernel to have accepted USO")
    #expect(
      OffloadState.tunOffloadsToAsk(configured: .tunSide, socketSegmentation: false)
        == [.checksum, .receiveCoalescing])
    #expect(
      OffloadState.tunOffloadsToAsk(configured: .tunSide, socketSegmentation: true) == .tunSide)
  }

  @Test func coalescingUDPNeedsUSO() {
    #expect(OffloadState(active: .all).coalescesUDP)
    let noUSO = OffloadState(active: TunOffloads.all.subtracting(.udpSegmentation))
    #expect(noUSO.coalescesTCP)
    #expect(!noUSO.coalescesUDP)
  }

  @Test func tunOffloadNegotiationDropsUSOThenTSOThenChecksum() {
    var asked = TunOffloads.tunSide
    var seen: [TunOffloads] = []
    while let next = OffloadState.fallback(afterRefusing: asked) {
      seen.append(next)
      asked = next
    }
    #expect(
      seen == [
        [.checksum, .tcpSegmentation, .receiveCoalescing], [.checksum, .receiveCoalescing],
        [.receiveCoalescing],
      ])
    #expect(OffloadState.fallback(afterRefusing: []) == nil)
  }

  @Test func noticesKeepTheWordsOperatorsSearchFor() {
    let split = OffloadState.notices(
      turnedOff: Self.gso.union(Self.tsoUSO), after: .splitSend, errno: EIO)
    #expect(
      split == [
        "GSO send of a split super-packet refused (errno 5); TUN TSO/USO off",
        "GSO send of a split super-packet refused (errno 5); one datagram per send from now on",
      ])
    #expect(
      OffloadState.notices(turnedOff: .receiveCoalescing, after: .coalescedWrite, errno: EINVAL)
        == ["TUN write of a coalesced super-packet refused (errno 22); receive GRO off"])
  }
}
