import Benchmark
import BenchmarkPackets
import DataPlane

// Per-packet work of the forwarder on a batch of 1,024 packets in memory, each ours beside
// the way stock flanneld's C proxy does it (full recomputation, linear route scan).

let batch = 1_024
let packetLength = BenchmarkPackets.packetLength
func makePackets() -> UnsafeMutableRawPointer { BenchmarkPackets.make(count: batch) }
let routes = BenchmarkPackets.routes

/// Stock's table: an array scanned from the front, the hit moved to index 0.
struct LinearTable {
  var entries: [(network: UInt32, mask: UInt32, nextHop: UInt32)]
  mutating func lookup(_ destination: UInt32) -> UInt32? {
    for i in entries.indices where destination & entries[i].mask == entries[i].network {
      let hit = entries[i]
      if i != 0 { entries.swapAt(0, i) }
      return hit.nextHop
    }
    return nil
  }
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput, .instructions, .mallocCountTotal],
    scalingFactor: .kilo, maxDuration: .seconds(2))

  Benchmark("check + TTL (incremental checksum), ours") { benchmark in
    let packets = makePackets()
    defer { packets.deallocate() }
    for _ in benchmark.scaledIterations {
      for i in 0..<batch {
        let p = packets + i * packetLength
        // Bytes 8–11 (TTL, protocol, checksum) restored after, so every iteration does
        // the same work; both benchmarks pay for the save and restore.
        let saved = p.load(fromByteOffset: 8, as: UInt32.self)
        if IPv4Packet.check(p, length: packetLength) == .forward {
          _ = IPv4Packet.decrementTTL(p)
        }
        p.storeBytes(of: saved, toByteOffset: 8, as: UInt32.self)
      }
    }
  }

  Benchmark("check + TTL by full header recomputation, baseline") { benchmark in
    let packets = makePackets()
    defer { packets.deallocate() }
    for _ in benchmark.scaledIterations {
      for i in 0..<batch {
        let p = packets + i * packetLength
        let saved = p.load(fromByteOffset: 8, as: UInt32.self)
        if IPv4Packet.check(p, length: packetLength) == .forward {
          let ttl = p.load(fromByteOffset: 8, as: UInt8.self)
          p.storeBytes(of: ttl &- 1, toByteOffset: 8, as: UInt8.self)
          IPv4Packet.setHeaderChecksum(p)
        }
        p.storeBytes(of: saved, toByteOffset: 8, as: UInt32.self)
      }
    }
  }

  Benchmark("route lookup, RouteSnapshot (ours)") { benchmark in
    let packets = makePackets()
    defer { packets.deallocate() }
    let snapshot = RouteSnapshot(routes)
    for _ in benchmark.scaledIterations {
      for i in 0..<batch {
        blackHole(snapshot.index(for: IPv4Packet.destination(packets + i * packetLength)))
      }
    }
  }

  Benchmark("route lookup, linear scan with move-to-front (stock)") { benchmark in
    let packets = makePackets()
    defer { packets.deallocate() }
    var table = LinearTable(
      entries: routes.map { ($0.network, UInt32.max << (32 - $0.prefixLength), $0.nextHop) })
    for _ in benchmark.scaledIterations {
      for i in 0..<batch {
        blackHole(table.lookup(IPv4Packet.destination(packets + i * packetLength)))
      }
    }
  }

  Benchmark("net unreachable ICMP build") { benchmark in
    let packets = makePackets()
    defer { packets.deallocate() }
    let output = UnsafeMutableRawPointer.allocate(
      byteCount: NetUnreachable.maximumLength, alignment: 8)
    defer { output.deallocate() }
    for _ in benchmark.scaledIterations {
      for i in 0..<batch {
        blackHole(
          NetUnreachable.build(
            offender: packets + i * packetLength, length: packetLength, tunAddress: 0x0a01_0100,
            into: output, capacity: NetUnreachable.maximumLength))
      }
    }
  }

  // The L4 checksum over a full-size packet: what the split (sender) and the coalescing
  // checks (receiver) pay per byte.
  let checksumLength = 1_472
  Benchmark("checksum 1,472 B, AVX2 blocks, then 8-byte words (ours)") { benchmark in
    let bytes = BenchmarkPackets.payload(length: checksumLength)
    defer { bytes.deallocate() }
    for _ in benchmark.scaledIterations {
      for _ in 0..<batch { blackHole(Checksum.sum(bytes, length: checksumLength)) }
    }
  }

  Benchmark("checksum 1,472 B, 4-byte words (previous)") { benchmark in
    let bytes = BenchmarkPackets.payload(length: checksumLength)
    defer { bytes.deallocate() }
    for _ in benchmark.scaledIterations {
      for _ in 0..<batch { blackHole(Checksum.sumByWords32(bytes, length: checksumLength)) }
    }
  }
}
