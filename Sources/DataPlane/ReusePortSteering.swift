import CSystemShims
import SystemCalls

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
  /// socket's position in the group (bind order). Throws the kernel's refusal; then the
  /// kernel keeps hashing the outer addresses and ports.
  public func steerByInnerFlow(groupSize: Int) throws(SystemCallError) {
    let program = ReusePortSteering.program(groupSize: groupSize)
    let result = program.withUnsafeBufferPointer { instructions in
      // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
      var fprog = SocketFilterProgram(
        length: UInt16(instructions.count), filter: instructions.baseAddress!)
      return Result { () throws(SystemCallError) in
        try retryingOnEINTR("setsockopt(SO_ATTACH_REUSEPORT_CBPF)", object: objectName) {
          setsockopt(
            fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog,
            socklen_t(MemoryLayout<SocketFilterProgram>.size))
        }
      }
    }
    _ = try result.get()
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
  // Classic BPF opcodes, composed from <linux/bpf_common.h>'s parts as C programs do.
  static func opcode(_ parts: Int...) -> UInt16 { UInt16(parts.reduce(0, |)) }
  /// A = payload[k…k+3]
  static let loadWordAbsolute = opcode(FLANNEL_BPF_LD, FLANNEL_BPF_W, FLANNEL_BPF_ABS)
  /// A = payload[X+k…X+k+3]
  static let loadWordIndirect = opcode(FLANNEL_BPF_LD, FLANNEL_BPF_W, FLANNEL_BPF_IND)
  /// A = M[k]
  static let loadMemory = opcode(FLANNEL_BPF_LD, FLANNEL_BPF_MEM)
  /// X = 4 × (payload[k] & 15): the IPv4 header length.
  static let loadIPHeaderLength = opcode(FLANNEL_BPF_LDX, FLANNEL_BPF_B, FLANNEL_BPF_MSH)
  /// M[k] = A
  static let store = opcode(FLANNEL_BPF_ST)
  static let addX = opcode(FLANNEL_BPF_ALU, FLANNEL_BPF_ADD, FLANNEL_BPF_X)
  static let shiftRight = opcode(FLANNEL_BPF_ALU, FLANNEL_BPF_RSH, FLANNEL_BPF_K)
  static let xorX = opcode(FLANNEL_BPF_ALU, FLANNEL_BPF_XOR, FLANNEL_BPF_X)
  static let multiply = opcode(FLANNEL_BPF_ALU, FLANNEL_BPF_MUL, FLANNEL_BPF_K)
  /// X = A
  static let copyAToX = opcode(FLANNEL_BPF_MISC, FLANNEL_BPF_TAX)
  static let returnA = opcode(FLANNEL_BPF_RET, FLANNEL_BPF_A)

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
