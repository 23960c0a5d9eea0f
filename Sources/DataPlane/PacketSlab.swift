#if canImport(Glibc)
  import Glibc
#endif

/// All memory the forwarder touches per packet, allocated once: one 64 KiB (+ scratch) buffer
/// per slot, and per slot a msghdr, an iovec and a sockaddr_in that the kernel reads (send
/// destination) or fills (receive source). Slots `0..<tunCount` carry tun → udp traffic, the
/// rest udp → tun. A slot is owned by exactly one in-flight operation or by its free list.
final class PacketSlab {
  /// Room for the largest IPv4 packet / UDP payload (a TSO super-packet later).
  static let bufferSize = 65536
  /// Behind each buffer: where the ICMP reply to that buffer's packet is built.
  static let scratchSize = 128
  static let stride = bufferSize + 4096

  let tunCount: Int
  let count: Int
  let memory: UnsafeMutableRawPointer
  let headers: UnsafeMutablePointer<msghdr>
  let vectors: UnsafeMutablePointer<iovec>
  let addresses: UnsafeMutablePointer<sockaddr_in>
  /// Free-slot stacks, one per direction.
  let tunFree: UnsafeMutablePointer<Int32>
  let udpFree: UnsafeMutablePointer<Int32>
  var tunFreeCount = 0
  var udpFreeCount = 0
  /// 8-byte target of the eventfd READ used to stop the loop.
  let wakeBuffer: UnsafeMutablePointer<UInt64>

  init(tunCount: Int, udpCount: Int) {
    self.tunCount = tunCount
    count = tunCount + udpCount
    memory = .allocate(byteCount: count * Self.stride, alignment: 4096)
    headers = .allocate(capacity: count)
    vectors = .allocate(capacity: count)
    addresses = .allocate(capacity: count)
    tunFree = .allocate(capacity: tunCount)
    udpFree = .allocate(capacity: udpCount)
    wakeBuffer = .allocate(capacity: 1)
    wakeBuffer.initialize(to: 0)
    for slot in 0..<count {
      addresses[slot] = sockaddr_in()
      vectors[slot] = iovec(iov_base: buffer(slot), iov_len: Self.bufferSize)
      var header = msghdr()
      header.msg_name = UnsafeMutableRawPointer(addresses + slot)
      header.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
      header.msg_iov = vectors + slot
      header.msg_iovlen = 1
      headers[slot] = header
      if slot < tunCount { releaseTun(slot) } else { releaseUDP(slot) }
    }
  }

  deinit {
    memory.deallocate()
    headers.deallocate()
    vectors.deallocate()
    addresses.deallocate()
    tunFree.deallocate()
    udpFree.deallocate()
    wakeBuffer.deallocate()
  }

  @inline(__always)
  func buffer(_ slot: Int) -> UnsafeMutableRawPointer { memory + slot &* Self.stride }

  @inline(__always)
  func scratch(_ slot: Int) -> UnsafeMutableRawPointer { buffer(slot) + Self.bufferSize }

  @inline(__always)
  func takeTun() -> Int? {
    guard tunFreeCount > 0 else { return nil }
    tunFreeCount &-= 1
    return Int(tunFree[tunFreeCount])
  }

  @inline(__always)
  func releaseTun(_ slot: Int) {
    tunFree[tunFreeCount] = Int32(truncatingIfNeeded: slot)
    tunFreeCount &+= 1
  }

  @inline(__always)
  func takeUDP() -> Int? {
    guard udpFreeCount > 0 else { return nil }
    udpFreeCount &-= 1
    return Int(udpFree[udpFreeCount])
  }

  @inline(__always)
  func releaseUDP(_ slot: Int) {
    udpFree[udpFreeCount] = Int32(truncatingIfNeeded: slot)
    udpFreeCount &+= 1
  }
}
