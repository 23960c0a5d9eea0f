#if canImport(Glibc)
  import Glibc
#endif

/// Which socket of an SO_REUSEPORT group gets a datagram. Without a program the kernel hashes
/// the sender's address and port: a peer's few source ports (one per worker) then often land
/// on the same socket, and since the TUN sends a flow's packets out through the queue its
/// reverse packets were written to, both directions collapse onto that one worker. A classic
/// BPF program instead picks the socket from the inner packet (the datagram payload): its
/// addresses plus its first four bytes past the IP header (the TCP/UDP ports), so that
/// different flows go to different workers whatever the outer ports are.
extension UDPSocket {
  /// Attaches the steering program to this socket's reuseport group (`SO_ATTACH_REUSEPORT_CBPF`,
  /// Linux 4.5); call once every socket of the group is bound — the program's answer is the
  /// socket's position in the group (bind order). Returns 0 or the errno; on failure the
  /// kernel keeps hashing the outer addresses and ports.
  public func steerByInnerFlow(groupSize: Int) -> Int32 {
    let program = ReusePortSteering.program(groupSize: groupSize)
    return program.withUnsafeBufferPointer { instructions in
      // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
      var fprog = SocketFilterProgram(
        length: UInt16(instructions.count), filter: instructions.baseAddress!)
      // SO_ATTACH_REUSEPORT_CBPF = 51 (<asm-generic/socket.h>).
      return setsockopt(
        fd, SOL_SOCKET, 51, &fprog, socklen_t(MemoryLayout<SocketFilterProgram>.size)) == 0
        ? 0 : errno
    }
  }
}

/// `struct sock_filter` (8 bytes: code, jt, jf, k) and `struct sock_fprog`, laid out as in C.
struct SocketFilterInstruction: Equatable {
  var code: UInt16
  var jumpTrue: UInt8 = 0
  var jumpFalse: UInt8 = 0
  var k: UInt32
}

struct SocketFilterProgram {
  var length: UInt16
  var filter: UnsafePointer<SocketFilterInstruction>
}

enum ReusePortSteering {
  // Classic BPF opcodes (<linux/bpf_common.h>, <linux/filter.h>).
  static let loadWordAbsolute: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS: A = payload[k…k+3]
  static let loadWordIndirect: UInt16 = 0x40  // BPF_LD | BPF_W | BPF_IND: A = payload[X+k…]
  static let loadMemory: UInt16 = 0x60  // BPF_LD | BPF_MEM: A = M[k]
  static let loadIPHeaderLength: UInt16 = 0xb1  // BPF_LDX | BPF_B | BPF_MSH: X = 4*(p[k]&15)
  static let store: UInt16 = 0x02  // BPF_ST: M[k] = A
  static let addX: UInt16 = 0x0c  // BPF_ALU | BPF_ADD | BPF_X
  static let shiftRight: UInt16 = 0x74  // BPF_ALU | BPF_RSH | BPF_K
  static let xorX: UInt16 = 0xac  // BPF_ALU | BPF_XOR | BPF_X
  static let multiply: UInt16 = 0x24  // BPF_ALU | BPF_MUL | BPF_K
  static let copyAToX: UInt16 = 0x07  // BPF_MISC | BPF_TAX
  static let returnA: UInt16 = 0x16  // BPF_RET | BPF_A

  /// s = source + destination + ports word; h = (s ^ s >> 16) × 2654435761 (Knuth's
  /// multiplicative hash); socket = (h >> 16) × groupSize >> 16. The fold and the product's
  /// high bits make the answer depend on every bit of s: one host pair's flows differ only
  /// in a client port, and Linux gives connect()ed sockets ports of one parity, so any
  /// low-bit or modulo shortcut sends them all to one socket. The last step maps the 16-bit
  /// hash onto 0..<groupSize without a modulo bias. The payload starts at
  /// the inner IPv4 header (the kernel has pulled the outer UDP header). A load past the end
  /// (a datagram too short to be a packet) ends the program with 0: worker 0 drops and
  /// counts it. A non-IPv4 payload still gets some socket; its worker drops it.
  static let multiplier: UInt32 = 0x9E37_79B1

  static func program(groupSize: Int) -> [SocketFilterInstruction] {
    [
      .init(code: loadWordAbsolute, k: 12),
      .init(code: store, k: 0),
      .init(code: loadWordAbsolute, k: 16),
      .init(code: copyAToX, k: 0),
      .init(code: loadMemory, k: 0),
      .init(code: addX, k: 0),
      .init(code: store, k: 0),
      .init(code: loadIPHeaderLength, k: 0),
      .init(code: loadWordIndirect, k: 0),
      .init(code: copyAToX, k: 0),
      .init(code: loadMemory, k: 0),
      .init(code: addX, k: 0),
      .init(code: copyAToX, k: 0),
      .init(code: shiftRight, k: 16),
      .init(code: xorX, k: 0),
      .init(code: multiply, k: multiplier),
      .init(code: shiftRight, k: 16),
      .init(code: multiply, k: UInt32(max(groupSize, 1))),
      .init(code: shiftRight, k: 16),
      .init(code: returnA, k: 0),
    ]
  }

  /// The program's answer for one payload, computed the same way in Swift (for tests).
  static func socketIndex(payload: [UInt8], groupSize: Int) -> UInt32 {
    func word(_ at: Int) -> UInt32? {
      guard at >= 0, at + 4 <= payload.count else { return nil }
      return payload[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
    guard let source = word(12), let destination = word(16), let first = payload.first,
      let ports = word(Int(first & 15) * 4)
    else { return 0 }
    let sum = source &+ destination &+ ports
    let hash = ((sum ^ sum >> 16) &* multiplier) >> 16
    return (hash &* UInt32(max(groupSize, 1))) >> 16
  }
}
