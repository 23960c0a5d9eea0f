#if canImport(Glibc)
  import Glibc
#endif

/// The TUN writes being prepared for one received buffer (a UDP GRO train): where its iovecs
/// and virtio header slots are, how many are used, and the super-packet being coalesced.
/// Lives on the forwarder thread's stack for the duration of one completion.
struct TrainWrites {
  /// This buffer's `LoopBuffers.vectorsPerBuffer` iovecs.
  let vectors: UnsafeMutablePointer<iovec>
  /// This buffer's `LoopBuffers.writesPerBuffer` virtio header slots.
  let headerSlots: UnsafeMutableRawPointer
  /// iovecs used so far.
  var used = 0
  /// Writes posted so far (each completes once; the buffer is recycled after the last).
  var writes: Int32 = 0
  /// First iovec (the header slot) of the super-packet being built.
  var first = 0
  var merge = TCPCoalescer()

  init(vectors: UnsafeMutablePointer<iovec>, headerSlots: UnsafeMutableRawPointer) {
    self.vectors = vectors
    self.headerSlots = headerSlots
  }
}
