import BenchmarkPackets
import DataPlane

#if canImport(Glibc)
  import Glibc
#endif

// Runs one per-packet operation over N packets, for `valgrind --tool=callgrind` to count
// instructions (Scripts/packet-instructions.sh): callgrind counts are stable where wall time on
// this shared machine is not. Usage: PacketOpsCount OPERATION [PACKETS]
// OPERATION: pipeline | pipeline-stock | none (setup only, subtracted by the script)

let packetLength = BenchmarkPackets.packetLength
let distinct = 1_024
let arguments = CommandLine.arguments
let operation = arguments.count > 1 ? arguments[1] : "pipeline"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000

let packets = BenchmarkPackets.make(count: distinct)
let routes = BenchmarkPackets.routes
let snapshot = RouteSnapshot(routes)
// Stock's table: scanned from the front, the hit moved to index 0.
var linear = routes.map { (network: $0.network, mask: UInt32.max << 24, hop: $0.nextHop) }

var sink: UInt64 = 0
switch operation {
case "pipeline":
  // What the forwarder does per tun → udp packet: check, route lookup, TTL with the
  // incremental checksum update.
  for n in 0..<count {
    let p = packets + (n & (distinct - 1)) * packetLength
    let saved = p.load(fromByteOffset: 8, as: UInt32.self)
    if IPv4Packet.check(p, length: packetLength) == .forward,
      let hop = snapshot.nextHop(for: IPv4Packet.destination(p)),
      IPv4Packet.decrementTTL(p) == .forward
    {
      sink &+= UInt64(hop.sin_port)
    }
    p.storeBytes(of: saved, toByteOffset: 8, as: UInt32.self)
  }
case "pipeline-stock":
  // Stock flanneld's C proxy: linear scan with move-to-front, full header recomputation.
  for n in 0..<count {
    let p = packets + (n & (distinct - 1)) * packetLength
    let saved = p.load(fromByteOffset: 8, as: UInt32.self)
    if IPv4Packet.check(p, length: packetLength) == .forward {
      let destination = IPv4Packet.destination(p)
      for i in linear.indices where destination & linear[i].mask == linear[i].network {
        sink &+= UInt64(linear[i].hop)
        if i != 0 { linear.swapAt(0, i) }
        break
      }
      p.storeBytes(
        of: p.load(fromByteOffset: 8, as: UInt8.self) &- 1, toByteOffset: 8, as: UInt8.self)
      IPv4Packet.setHeaderChecksum(p)
    }
    p.storeBytes(of: saved, toByteOffset: 8, as: UInt32.self)
  }
default:
  break
}
if sink == 42 { print(sink) }
