import DataPlane
import FlannelCore

/// Command line of the probe:
/// `udp-forwarder-probe --tun flannel0 --bind 192.168.90.1:7890 --tun-address 10.1.1.0
///  --route 10.1.2.0/24=192.168.90.2:7890 [--route …] [--counters-file F] [--mtu 1472]
///  [--txqueuelen 2000] [--accept-any-source] [--max-datagram N] [--routes-file F]
///  [--tun-reads N] [--no-gso] [--no-gro] [--workers N] [--poll-usecs N]`
/// `--poll-usecs N` polls the ring for up to N µs (at most 1,000) before sleeping, as
/// `-udp-poll-usecs` does; unlike the daemon (200), the probe does not poll unless asked.
/// `--workers N` runs N forwarders on N queues of one multi-queue TUN, as `-udp-workers` does
/// in the daemon (receive sockets share the port with SO_REUSEPORT; worker i ≥ 1 sends from
/// an ephemeral port).
/// `--tun-reads N` turns multishot READ off and keeps N one-shot READs posted on the TUN (to
/// reproduce the old design's iou-wrk threads; N > 1 makes them race).
/// The routes file holds one `NET/LEN=A.B.C.D:PORT` per line; it replaces the --route table at
/// start (when it exists) and on every SIGUSR1.
struct ProbeOptions {
  var tunName = "flannel%d"
  var bindAddress: UInt32 = 0
  var bindPort: UInt16 = 8285
  var tunAddress: UInt32 = 0
  var routes: [Route] = []
  var countersFile: String?
  var routesFile: String?
  var mtu = 1472
  var txQueueLength = 2000
  var acceptAnySource = false
  var maxDatagram = 65535
  /// nil: multishot READ on the TUN (the default).
  var tunReads: Int?
  var udpSegmentation = true
  var udpReceiveOffload = true
  /// TUN offloads (`--offloads csum,tso,uso|all`); empty: no virtio header on the TUN.
  var offloads: TunOffloads = []
  var workers = 1
  var pollMicroseconds = 0

  struct UsageError: Error, CustomStringConvertible {
    let description: String
  }

  init(_ arguments: [String]) throws {
    var rest = arguments[...]
    func value(_ flag: String) throws -> String {
      guard let next = rest.popFirst() else {
        throw UsageError(description: "\(flag) needs a value")
      }
      return next
    }
    while let flag = rest.popFirst() {
      switch flag {
      case "--tun": tunName = try value(flag)
      case "--bind": (bindAddress, bindPort) = try Self.endpoint(try value(flag))
      case "--tun-address": tunAddress = try Self.address(try value(flag))
      case "--route": routes.append(try Self.route(try value(flag)))
      case "--counters-file": countersFile = try value(flag)
      case "--routes-file": routesFile = try value(flag)
      case "--mtu": mtu = try Self.number(try value(flag))
      case "--txqueuelen": txQueueLength = try Self.number(try value(flag))
      case "--max-datagram": maxDatagram = try Self.number(try value(flag))
      case "--tun-reads": tunReads = try Self.number(try value(flag))
      case "--workers": workers = max(try Self.number(try value(flag)), 1)
      case "--poll-usecs": pollMicroseconds = min(try Self.number(try value(flag)), 1_000)
      case "--accept-any-source": acceptAnySource = true
      case "--no-gso": udpSegmentation = false
      case "--no-gro": udpReceiveOffload = false
      case "--offloads":
        let list = try value(flag)
        guard let parsed = TunOffloads(list: list) else {
          throw UsageError(description: "bad offload list \(list)")
        }
        offloads = parsed
      default: throw UsageError(description: "unknown argument \(flag)")
      }
    }
  }

  static func number(_ text: String) throws -> Int {
    guard let n = Int(text), n >= 0 else { throw UsageError(description: "bad number \(text)") }
    return n
  }

  static func address(_ text: String) throws -> UInt32 {
    guard let a = IPv4Address(text) else { throw UsageError(description: "bad address \(text)") }
    return a.value
  }

  static func endpoint(_ text: String) throws -> (UInt32, UInt16) {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let port = UInt16(parts[1]) else {
      throw UsageError(description: "bad endpoint \(text) (want A.B.C.D:PORT)")
    }
    return (try address(String(parts[0])), port)
  }

  /// `10.1.2.0/24=192.168.90.2:7890`
  static func route(_ text: String) throws -> Route {
    let parts = text.split(separator: "=")
    guard parts.count == 2, let network = IPv4Network(String(parts[0])) else {
      throw UsageError(description: "bad route \(text) (want NET/LEN=A.B.C.D:PORT)")
    }
    let (hop, port) = try endpoint(String(parts[1]))
    return Route(
      network: network.address.value, prefixLength: network.prefixLength, nextHop: hop, port: port)
  }
}
