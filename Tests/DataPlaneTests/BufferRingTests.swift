import CLibURing
import Testing

@testable import DataPlane

#if canImport(Glibc)
  import Glibc
#endif

/// The provided-buffer ring against the real kernel (no namespace needed): which buffer a
/// completion names, what happens when all are taken, and how recycled ones come back.
/// Each test is synchronous, so it stays on one thread, as the single-issuer ring requires.
@Suite struct BufferRingTests {
  /// One completion: result, flags, user data.
  struct Completion {
    var result: Int32
    var flags: UInt32
    var more: Bool { flags & IORING_CQE_F_MORE != 0 }
  }

  static func ring() throws -> Ring {
    let ring = try Ring(entries: 16)
    try ring.enable()
    return ring
  }

  /// Submits what is queued, waits for one completion and consumes it.
  static func next(_ ring: Ring) -> Completion {
    _ = ring.submitAndWait(1)
    var cqe: UnsafeMutablePointer<io_uring_cqe>?
    _ = io_uring_peek_batch_cqe(ring.ring, &cqe, 1)
    guard let cqe else { return Completion(result: -ETIME, flags: 0) }
    let completion = Completion(result: cqe.pointee.res, flags: cqe.pointee.flags)
    ring.advance(1)
    return completion
  }

  static func nonBlockingPipe() -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    pipe(&fds)
    _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
    return (fds[0], fds[1])
  }

  static func text(_ pointer: UnsafeRawPointer, _ length: Int32) -> String {
    String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self)
  }

  @Test func multishotReadTakesEveryBufferOnceThenEndsAndResumesWithRecycledOnes() throws {
    let ring = try Self.ring()
    try #require(
      ring.supports(opcode: Int32(flannel_IORING_OP_READ_MULTISHOT)), "kernel lacks READ_MULTISHOT")
    let buffers = try BufferRing(ring: ring, group: 7, count: 4, bufferSize: 64, scratchSize: 16)
    #expect(buffers.available == 4)
    #expect(buffers.stride >= 64 + 16 && buffers.stride % 64 == 0)
    let pipe = Self.nonBlockingPipe()
    defer {
      close(pipe.read)
      close(pipe.write)
    }
    flannel_prep_read_multishot(ring.sqe()!, pipe.read, 7)

    var taken: [Int] = []
    for message in ["one", "two", "three", "four"] {
      #expect(write(pipe.write, message, message.utf8.count) == message.utf8.count)
      let completion = Self.next(ring)
      #expect(completion.more, "the request stays armed while buffers last")
      let id = try #require(buffers.take(flags: completion.flags))
      #expect(Self.text(buffers.buffer(id), completion.result) == message)
      taken.append(id)
    }
    #expect(Set(taken) == Set(0..<4), "each buffer handed out exactly once")
    #expect(buffers.available == 0)

    // No buffer left: the request ends with -ENOBUFS and carries none; the data stays queued.
    #expect(write(pipe.write, "five", 4) == 4)
    let ended = Self.next(ring)
    #expect(ended.result == -ENOBUFS)
    #expect(!ended.more)
    #expect(buffers.take(flags: ended.flags) == nil)

    // Recycled buffers are invisible until published, then a re-armed read uses them.
    buffers.recycle(taken[2])
    buffers.recycle(taken[0])
    #expect(buffers.available == 0 && buffers.queued == 2)
    buffers.publish()
    #expect(buffers.available == 2 && buffers.queued == 0)
    flannel_prep_read_multishot(ring.sqe()!, pipe.read, 7)
    let resumed = Self.next(ring)
    let id = try #require(buffers.take(flags: resumed.flags))
    #expect([taken[2], taken[0]].contains(id))
    #expect(Self.text(buffers.buffer(id), resumed.result) == "five")
    #expect(buffers.available == 1)
  }

  @Test func oneShotReadWithBufferSelectionFallback() throws {
    let ring = try Self.ring()
    let buffers = try BufferRing(ring: ring, group: 3, count: 2, bufferSize: 32)
    let pipe = Self.nonBlockingPipe()
    defer {
      close(pipe.read)
      close(pipe.write)
    }
    #expect(write(pipe.write, "abc", 3) == 3)
    flannel_prep_read_select(ring.sqe()!, pipe.read, 32, 3)
    let completion = Self.next(ring)
    #expect(!completion.more)
    let id = try #require(buffers.take(flags: completion.flags))
    #expect(Self.text(buffers.buffer(id), completion.result) == "abc")
  }

  /// Loopback of each underlay family.
  static let loopbacks: [UnderlayAddress] = [.ipv4(0x7f00_0001), .ipv6(high: 0, low: 1)]

  /// `socket`'s own address and port as a send destination (sockaddr_in6-sized slot).
  static func destination(of socket: UDPSocket) -> sockaddr_in6 {
    switch socket.underlay {
    case .ipv4(let address): NextHop.ipv4(address, socket.port).address
    case .ipv6(let high, let low): makeSocketAddress6(high: high, low: low, port: socket.port)
    }
  }

  /// Multishot RECVMSG: the buffer holds io_uring_recvmsg_out, the sender's sockaddr_in (or
  /// sockaddr_in6 on an AF_INET6 socket) in a name area of one size for both, and the
  /// payload; a datagram longer than the buffer is flagged and keeps its real length.
  @Test(arguments: loopbacks)
  func multishotReceiveLayout(loopback: UnderlayAddress) throws {
    let ring = try Self.ring()
    let receiver = try UDPSocket(underlay: loopback, port: 0, bufferSize: 0)
    let sender = try UDPSocket(underlay: loopback, port: 0, bufferSize: 0)
    let headers = MessageHeaders(count: 1, nameLength: receiver.nameLength)
    let layout = headers.receiveLayout
    #expect(layout == (receiver.isIPv6 ? .ipv6 : .ipv4))
    let buffers = try BufferRing(
      ring: ring, group: 1, count: 4, bufferSize: layout.payloadOffset + 64)
    flannel_prep_recvmsg_multishot(
      ring.sqe()!, receiver.fd, headers.receive, UInt32(MSG_TRUNC), 1)

    var destination = Self.destination(of: receiver)
    for length in [1, 64, 100] {
      let payload = [UInt8](repeating: UInt8(length), count: length)
      let sent = withUnsafePointer(to: &destination) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(sender.fd, payload, length, 0, $0, socklen_t(sender.nameLength))
        }
      }
      #expect(sent == length)
      let completion = Self.next(ring)
      #expect(completion.more)
      let id = try #require(buffers.take(flags: completion.flags))
      let buffer = UnsafeRawPointer(buffers.buffer(id))
      #expect(ReceivedDatagram.nameLength(buffer) == receiver.nameLength)
      #expect(ReceivedDatagram.payloadLength(buffer) == length)
      #expect(
        ReceivedDatagram.segmentSize(buffer, controlOffset: layout.controlOffset) == nil,
        "no UDP_GRO asked: no train")
      switch loopback {
      case .ipv4(let address):
        let source = try #require(ReceivedDatagram.source(buffer))
        #expect(source.address == address && source.port == sender.port)
        #expect(ReceivedDatagram.source6(buffer) == nil, "an AF_INET name is no sockaddr_in6")
      case .ipv6(let high, let low):
        let source = try #require(ReceivedDatagram.source6(buffer))
        #expect(source.high == high && source.low == low && source.port == sender.port)
        #expect(ReceivedDatagram.source(buffer) == nil, "an AF_INET6 name is no sockaddr_in")
      }
      let truncated = ReceivedDatagram.flags(buffer) & Int32(MSG_TRUNC) != 0
      #expect(truncated == (length > 64))
      #expect(
        buffer.load(fromByteOffset: layout.payloadOffset, as: UInt8.self) == UInt8(length)
      )
    }
  }

  /// A run sent with MessageHeaders (UDP GSO cmsg) reaches a UDP_GRO socket over loopback as
  /// one train: one buffer, the segment size in the UDP_GRO cmsg, the payloads back to back —
  /// on AF_INET and on AF_INET6 sockets alike.
  @Test(arguments: loopbacks)
  func segmentedSendArrivesAsOneGROTrain(loopback: UnderlayAddress) throws {
    let ring = try Self.ring()
    let receiver = try UDPSocket(underlay: loopback, port: 0, bufferSize: 0)
    #expect(throws: Never.self) { try receiver.enableReceiveOffload() }
    let sender = try UDPSocket(underlay: loopback, port: 0, bufferSize: 0)
    let layout = ReceiveLayout(ipv6: receiver.isIPv6)
    let received = try BufferRing(
      ring: ring, group: 1, count: 2, bufferSize: layout.payloadOffset + 1024)
    // The sender's packets live in another buffer ring's memory, as tun → udp packets do.
    let packets = try BufferRing(ring: ring, group: 2, count: 4, bufferSize: 256)
    let headers = MessageHeaders(count: 4, nameLength: sender.nameLength)
    let runs = SegmentRuns(capacity: 4)
    for (id, length) in [(2, 100), (0, 100), (3, 40)] {
      packets.buffer(id).initializeMemory(as: UInt8.self, repeating: UInt8(id + 1), count: length)
      if !runs.append(id, length: length, destination: 1) {
        runs.start(id, length: length, destination: 1)
      }
    }
    let run = try #require(runs.take())
    #expect(run.count == 3 && run.segmentSize == 100)
    let header = headers.prepareSend(
      head: run.head, count: run.count, segmentSize: run.segmentSize, runs: runs,
      buffers: packets.layout, to: Self.destination(of: receiver))
    #expect(sendmsg(sender.fd, header, 0) == 240)

    let receiveHeaders = MessageHeaders(count: 1, nameLength: receiver.nameLength)
    flannel_prep_recvmsg_multishot(
      ring.sqe()!, receiver.fd, receiveHeaders.receive, UInt32(MSG_TRUNC), 1)
    let completion = Self.next(ring)
    let id = try #require(received.take(flags: completion.flags))
    let buffer = UnsafeRawPointer(received.buffer(id))
    #expect(ReceivedDatagram.payloadLength(buffer) == 240)
    #expect(ReceivedDatagram.segmentSize(buffer, controlOffset: layout.controlOffset) == 100)
    let payload = buffer + layout.payloadOffset
    #expect(payload.load(fromByteOffset: 0, as: UInt8.self) == 3)
    #expect(payload.load(fromByteOffset: 100, as: UInt8.self) == 1)
    #expect(payload.load(fromByteOffset: 200, as: UInt8.self) == 4)
  }

  @Test(arguments: [(0, 1), (1, 1), (3, 4), (4, 4), (200, 256), (256, 256), (100_000, 32768)])
  func bufferCountsRoundUpToPowersOfTwo(asked: Int, expected: Int) {
    let configuration = ForwarderConfiguration(
      tunAddress: 0, tunBufferCount: asked, udpBufferCount: asked)
    #expect(configuration.tunBufferCount == max(expected, 1))
    #expect(configuration.udpBufferCount == expected)
  }

  @Test func packetsPerSubmissionCountsReadsAndReceives() {
    var counters = ForwarderCounters()
    #expect(counters.packetsPerSubmission == 0)
    counters[.tunPacketsRead] = 30
    counters[.udpPacketsReceived] = 34
    counters[.udpPacketsSent] = 1000  // sends are not packets moved in
    counters[.submissions] = 4
    #expect(counters.packetsMoved == 64)
    #expect(counters.packetsPerSubmission == 16)
    // 10 of the 30 reads were super-packets split into 440 packets.
    counters[.tunSuperPackets] = 10
    counters[.tunSplitPackets] = 440
    #expect(counters.packetsMoved == 20 + 440 + 34)
  }

  /// Packets written into the TUN count the packets merged into super-packets.
  @Test func innerPacketsWrittenCountsMergedPackets() {
    var counters = ForwarderCounters()
    counters[.tunPacketsWritten] = 100  // 90 plain writes, 7 TCP and 3 UDP super-packets
    counters[.tunCoalescedWrites] = 7
    counters[.tunCoalescedPackets] = 300
    counters[.tunCoalescedUDPWrites] = 3
    counters[.tunCoalescedUDPPackets] = 24
    #expect(counters.innerPacketsWritten == 90 + 300 + 24)
  }
}
