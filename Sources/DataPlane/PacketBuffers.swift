/// Where a ring's buffers lie: buffer `id` starts `id × stride` bytes after `base`, holds
/// `bufferSize` bytes the kernel may fill, and has scratch space behind. The pipelines reach
/// packets through this alone, so tests can hand them plain memory.
struct PacketBuffers {
  let base: UnsafeMutableRawPointer
  let stride: Int
  let bufferSize: Int

  @inline(__always)
  func buffer(_ id: Int) -> UnsafeMutableRawPointer { base + id &* stride }

  @inline(__always)
  func scratch(_ id: Int) -> UnsafeMutableRawPointer { buffer(id) + bufferSize }
}
