#if canImport(Glibc)
  import Glibc
#endif

/// udp → tun bookkeeping beside the udp buffers: the TUN writes still in flight from each
/// buffer (a GRO train is several packets, written from the buffer in place) and, with a
/// virtio header on the TUN, the iovecs and header slots of those writes. Forwarder thread
/// only.
final class UDPToTunBuffers {
  /// Writes (and header slots) per udp buffer.
  static let writesPerBuffer = 64
  /// iovecs per udp buffer: [zero header, packet] for a plain write, [header slot, first
  /// packet, payload 2, …, payload n] for a coalesced one.
  static let vectorsPerBuffer = 2 * writesPerBuffer
  static let headerSlotSize = 16

  /// Per udp buffer id: TUN writes from it still in flight.
  let pendingWrites: UnsafeMutablePointer<Int32>
  /// With a virtio header: `vectorsPerBuffer` iovecs per udp buffer (the packets of a train
  /// are back to back, so the header cannot go in front of each in place), and
  /// `writesPerBuffer` header slots of `headerSlotSize` bytes for its coalesced writes.
  let writeVectors: UnsafeMutablePointer<iovec>?
  let headerSlots: UnsafeMutableRawPointer?
  /// The virtio header of a plain packet with complete checksums: all zero.
  let zeroHeader: UnsafeMutableRawPointer

  init(udpBufferCount count: Int, virtioHeaderSize: Int) {
    pendingWrites = .allocate(capacity: count)
    pendingWrites.initialize(repeating: 0, count: count)
    zeroHeader = .allocate(byteCount: Self.headerSlotSize, alignment: 8)
    zeroHeader.initializeMemory(as: UInt8.self, repeating: 0, count: Self.headerSlotSize)
    guard virtioHeaderSize > 0 else {
      writeVectors = nil
      headerSlots = nil
      return
    }
    let n = count * Self.vectorsPerBuffer
    let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: n)
    vectors.initialize(repeating: iovec(iov_base: zeroHeader, iov_len: virtioHeaderSize), count: n)
    writeVectors = vectors
    let slots = count * Self.writesPerBuffer * Self.headerSlotSize
    headerSlots = .allocate(byteCount: slots, alignment: 16)
    headerSlots?.initializeMemory(as: UInt8.self, repeating: 0, count: slots)
  }

  deinit {
    pendingWrites.deallocate()
    zeroHeader.deallocate()
    writeVectors?.deallocate()
    headerSlots?.deallocate()
  }

  /// An empty train of writes over udp buffer `id`'s iovecs and header slots.
  @inline(__always)
  func train(for id: Int) -> TrainWrites? {
    guard let writeVectors, let headerSlots else { return nil }
    return TrainWrites(
      vectors: writeVectors + id &* Self.vectorsPerBuffer,
      headerSlots: headerSlots + id &* Self.writesPerBuffer &* Self.headerSlotSize)
  }
}
