import CSystemShims
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// Which socket of an SO_REUSEPORT group gets a datagram. Without a program the kernel hashes
/// the sender's address and port: a peer's few source ports (one per worker) then often land
/// on the same socket. A classic BPF program instead picks the socket from the inner packet
/// (the datagram payload), so that different flows go to different workers whatever the outer
/// ports are, and so that both directions of a flow meet on one worker: the TUN sends a
/// flow's packets out through the queue its reverse packets were last written to, so a
/// worker that receives a flow's replies also reads its requests, and a packet and its reply
/// must hash alike (hence a hash symmetric in addresses and ports).
extension UDPSocket {
  /// Attaches the steering program to this socket's reuseport group (`SO_ATTACH_REUSEPORT_CBPF`,
  /// Linux 4.5); call once every socket of the group is bound — the program's answer is the
  /// socket's position in the group (bind order). Throws the kernel's refusal; then the
  /// kernel keeps hashing the outer addresses and ports.
  public func steerByInnerFlow(groupSize: Int) throws(SystemCallError) {
    try attachSteering(ReusePortSteering.program(groupSize: groupSize))
  }

  /// The same for WireGuard messages: the receiver index picks the socket
  /// (`ReusePortSteering.receiverIndexProgram`).
  public func steerByReceiverIndex(groupSize: Int) throws(SystemCallError) {
    try attachSteering(ReusePortSteering.receiverIndexProgram(groupSize: groupSize))
  }

  private func attachSteering(_ program: [SocketFilterInstruction]) throws(SystemCallError) {
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

public enum ReusePortSteering {
  // Classic BPF opcodes, composed from <linux/bpf_common.h>'s parts as C programs do.
  static func opcode(_ parts: Int...) -> UInt16 { UInt16(parts.reduce(0, |)) }
  /// A = payload[k…k+3]
  static let loadWordAbsolute = opcode(FLANNEL_BPF_LD, FLANNEL_BPF_W, FLANNEL_BPF_ABS)
  /// A = payload[k…k+1]
  static let loadHalfAbsolute = opcode(FLANNEL_BPF_LD, FLANNEL_BPF_H, FLANNEL_BPF_ABS)
  /// A = payload[k]
  static let loadByteAbsolute = opcode(FLANNEL_BPF_LD, FLANNEL_BPF_B, FLANNEL_BPF_ABS)
  /// A = payload[X+k…X+k+1]
  static let loadHalfIndirect = opcode(FLANNEL_BPF_LD, FLANNEL_BPF_H, FLANNEL_BPF_IND)
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
  /// Skip jumpTrue instructions if A == k, else jumpFalse.
  static let jumpIfEqual = opcode(FLANNEL_BPF_JMP, FLANNEL_BPF_JEQ, FLANNEL_BPF_K)
  /// Skip jumpTrue instructions if A & k != 0, else jumpFalse.
  static let jumpIfAnyBit = opcode(FLANNEL_BPF_JMP, FLANNEL_BPF_JSET, FLANNEL_BPF_K)
  /// X = A
  static let copyAToX = opcode(FLANNEL_BPF_MISC, FLANNEL_BPF_TAX)
  static let returnA = opcode(FLANNEL_BPF_RET, FLANNEL_BPF_A)

  /// s = source + destination, plus (for TCP and UDP packets that are not fragments) the two
  /// ports added: a sum is the same for a packet and its reply. ICMP and other protocols hash
  /// by addresses alone: an echo request and its reply differ in type and checksum, and a
  /// ping would otherwise wake a different worker at every hop. Fragments (MF set or a
  /// non-zero offset) hash by addresses alone too, so that a datagram's fragments stay
  /// together (a flow that is fragmented only now and then may use two workers: rare, since
  /// the TUN's MTU keeps inner packets within one datagram). Then h = (s ^ s >> 16) ×
  /// 2654435761 (Knuth's multiplicative hash); socket = (h >> 16) × groupSize >> 16. The fold
  /// and the product's high bits make the answer depend on every bit of s: one host pair's
  /// flows differ only in a client port, and Linux gives connect()ed sockets ports of one
  /// parity, so any low-bit or modulo shortcut sends them all to one socket. The last step
  /// maps the 16-bit hash onto 0..<groupSize without a modulo bias. The payload starts at the inner IPv4 or IPv6 header (the kernel has
  /// pulled the outer UDP header). A load past the end (a datagram too short to be a packet)
  /// ends the program with 0: worker 0 drops and counts it. A non-IPv4 payload still gets
  /// some socket; its worker drops it.
  static let multiplier: UInt32 = 0x9E37_79B1
  static let tcp: UInt32 = 6
  static let udp: UInt32 = 17
  /// IPv4 flags and fragment offset: MF (0x2000) and the offset (0x1fff).
  static let fragmentBits: UInt32 = 0x3fff

  static func program(groupSize: Int) -> [SocketFilterInstruction] {
    let ipv4 = ipv4Sum
    let ipv6 = ipv6Sum(skipping: ipv4.count)
    // Version 6 has bit 0x20 of the first byte set, version 4 not: IPv6 block next, else
    // jump over it to the IPv4 one; both leave their sum in M[0] and reach the hash.
    let dispatch: [SocketFilterInstruction] = [
      .init(code: loadByteAbsolute, k: 0),
      .init(code: jumpIfAnyBit, jumpTrue: 0, jumpFalse: UInt8(ipv6.count), k: 0x20),
    ]
    return dispatch + ipv6 + ipv4 + hash(groupSize: groupSize)
  }

  /// IPv4: M[0] = source + destination (+ the ports, see above); falls through to the hash.
  static let ipv4Sum: [SocketFilterInstruction] = [
    /* 0 */ .init(code: loadWordAbsolute, k: 12),
    /* 1 */ .init(code: copyAToX, k: 0),
    /* 2 */ .init(code: loadWordAbsolute, k: 16),
    /* 3 */ .init(code: addX, k: 0),
    /* 4 */ .init(code: store, k: 0),
    /* 5 */ .init(code: loadByteAbsolute, k: 9),
    /* 6 */ .init(code: jumpIfEqual, jumpTrue: 1, jumpFalse: 0, k: tcp),
    /* 7 */ .init(code: jumpIfEqual, jumpTrue: 0, jumpFalse: 13, k: udp),  // → hash
    /* 8 */ .init(code: loadHalfAbsolute, k: 6),
    /* 9 */ .init(code: jumpIfAnyBit, jumpTrue: 11, jumpFalse: 0, k: fragmentBits),  // → hash
    /* 10 */ .init(code: loadIPHeaderLength, k: 0),
    /* 11 */ .init(code: loadHalfIndirect, k: 0),
    /* 12 */ .init(code: store, k: 1),
    /* 13 */ .init(code: loadHalfIndirect, k: 2),
    /* 14 */ .init(code: copyAToX, k: 0),
    /* 15 */ .init(code: loadMemory, k: 1),
    /* 16 */ .init(code: addX, k: 0),
    /* 17 */ .init(code: copyAToX, k: 0),
    /* 18 */ .init(code: loadMemory, k: 0),
    /* 19 */ .init(code: addX, k: 0),
    /* 20 */ .init(code: store, k: 0),
  ]

  /// IPv6: M[0] = the sum of the eight 32-bit words of source and destination (symmetric as
  /// the IPv4 sum), plus the two ports when the next header is TCP or UDP itself (behind
  /// extension headers, or for any other protocol, the addresses alone: a flow's packets
  /// all carry the same headers, so both directions still agree). Ends with a jump over the
  /// `skipping` instructions of the IPv4 block to the hash.
  static func ipv6Sum(skipping ipv4Count: Int) -> [SocketFilterInstruction] {
    var block: [SocketFilterInstruction] = [.init(code: loadWordAbsolute, k: 8)]
    for offset in stride(from: 12, through: 36, by: 4) {
      block += [
        .init(code: copyAToX, k: 0),
        .init(code: loadWordAbsolute, k: UInt32(offset)),
        .init(code: addX, k: 0),
      ]
    }
    let ports: [SocketFilterInstruction] = [
      .init(code: loadHalfAbsolute, k: 40),
      .init(code: copyAToX, k: 0),
      .init(code: loadHalfAbsolute, k: 42),
      .init(code: addX, k: 0),
      .init(code: copyAToX, k: 0),
      .init(code: loadMemory, k: 0),
      .init(code: addX, k: 0),
      .init(code: store, k: 0),
    ]
    block += [
      .init(code: store, k: 0),
      .init(code: loadByteAbsolute, k: 6),
      .init(code: jumpIfEqual, jumpTrue: 1, jumpFalse: 0, k: tcp),
      .init(code: jumpIfEqual, jumpTrue: 0, jumpFalse: UInt8(ports.count), k: udp),
    ]
    block += ports
    // A jump whose both branches go the same way: over the IPv4 block, to the hash.
    block.append(
      .init(code: jumpIfEqual, jumpTrue: UInt8(ipv4Count), jumpFalse: UInt8(ipv4Count), k: 0))
    return block
  }

  /// h = (s ^ s >> 16) × multiplier, socket = (h >> 16) × groupSize >> 16, s from M[0].
  static func hash(groupSize: Int) -> [SocketFilterInstruction] {
    [
      .init(code: loadMemory, k: 0),
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

  /// For WireGuard datagrams: h = the word at bytes 4…7 (a transport message's receiver
  /// index: our local index of the session), hashed and mapped as above. Every message of a
  /// session reaches one socket, so one worker keeps the session's replay window, however
  /// the sender varies its port (a replay from another port meets the same window). Handshake
  /// messages land on some socket by the same word; any worker queues them. A datagram
  /// shorter than 8 bytes goes to socket 0, whose worker drops and counts it.
  static func receiverIndexProgram(groupSize: Int) -> [SocketFilterInstruction] {
    [
      /* 0 */ .init(code: loadWordAbsolute, k: 4),
      /* 1 */ .init(code: copyAToX, k: 0),
      /* 2 */ .init(code: shiftRight, k: 16),
      /* 3 */ .init(code: xorX, k: 0),
      /* 4 */ .init(code: multiply, k: multiplier),
      /* 5 */ .init(code: shiftRight, k: 16),
      /* 6 */ .init(code: multiply, k: UInt32(max(groupSize, 1))),
      /* 7 */ .init(code: shiftRight, k: 16),
      /* 8 */ .init(code: returnA, k: 0),
    ]
  }

  /// `receiverIndexProgram`'s answer, computed in Swift: the worker that receives the
  /// messages for local index `index` (written little-endian on the wire).
  public static func worker(forReceiverIndex index: UInt32, groupSize: Int) -> Int {
    let word = index.byteSwapped  // the program loads the four bytes big-endian
    let hash = ((word ^ word >> 16) &* multiplier) >> 16
    return Int((hash &* UInt32(max(groupSize, 1))) >> 16)
  }

  /// The program's answer for one payload, computed the same way in Swift (for tests).
  static func socketIndex(payload: [UInt8], groupSize: Int) -> UInt32 {
    func load(_ at: Int, _ size: Int) -> UInt32? {
      guard at >= 0, at + size <= payload.count else { return nil }
      return payload[at..<at + size].reduce(0) { $0 << 8 | UInt32($1) }
    }
    guard let version = load(0, 1) else { return 0 }
    var sum: UInt32 = 0
    if version & 0x20 != 0 {
      for offset in stride(from: 8, through: 36, by: 4) {
        guard let word = load(offset, 4) else { return 0 }
        sum = sum &+ word
      }
      guard let next = load(6, 1) else { return 0 }
      if next == tcp || next == udp {
        guard let first = load(40, 2), let second = load(42, 2) else { return 0 }
        sum = sum &+ (first &+ second)
      }
      let hash = ((sum ^ sum >> 16) &* multiplier) >> 16
      return (hash &* UInt32(max(groupSize, 1))) >> 16
    }
    guard let source = load(12, 4), let destination = load(16, 4), let proto = load(9, 1)
    else { return 0 }
    sum = source &+ destination
    if proto == tcp || proto == udp {
      guard let fragment = load(6, 2) else { return 0 }
      if fragment & fragmentBits == 0 {
        let header = Int(payload[0] & 15) * 4
        guard let first = load(header, 2), let second = load(header + 2, 2) else { return 0 }
        sum = sum &+ (first &+ second)
      }
    }
    let hash = ((sum ^ sum >> 16) &* multiplier) >> 16
    return (hash &* UInt32(max(groupSize, 1))) >> 16
  }
}
