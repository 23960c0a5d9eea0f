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

  // A lease event in a table of 20,000 leases (10.X.Y.0/24 over 79 /16s): the table the
  // forwarders get next. Ours keeps the routes in scan order; the previous way rebuilt the
  // snapshot from every route (dictionary, sort) for each event.
  let leaseRoutes = (0..<20_000).map {
    Route(
      network: 0x0A64_0000 + UInt32($0) << 8, prefixLength: 24,
      nextHop: 0xC0A8_0000 + UInt32($0), port: 8285)
  }
  Benchmark(
    "lease event in 20,000 leases: ordered insert + snapshot (ours)",
    configuration: .init(scalingFactor: .one)
  ) { benchmark in
    var ordered = OrderedRoutes()
    for route in leaseRoutes { ordered.upsert(route) }
    let extra = Route(network: 0x0AFE_0100, prefixLength: 24, nextHop: 0xC0A8_FE01, port: 8285)
    for _ in benchmark.scaledIterations {
      ordered.upsert(extra)
      blackHole(RouteSnapshot(ordered))
      ordered.remove(network: extra.network, prefixLength: 24)
    }
  }

  Benchmark(
    "lease event in 20,000 leases: snapshot of every route (previous)",
    configuration: .init(scalingFactor: .one)
  ) { benchmark in
    var all = leaseRoutes
    let extra = Route(network: 0x0AFE_0100, prefixLength: 24, nextHop: 0xC0A8_FE01, port: 8285)
    for _ in benchmark.scaledIterations {
      all.append(extra)
      blackHole(RouteSnapshot(all))
      all.removeLast()
    }
  }
}
