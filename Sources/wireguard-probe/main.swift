// Records a WireGuard handshake and one data message each way against a real peer (Debian's
// wireguard-go, set up by Scripts/wireguard-transcript.sh), with our side's keys, ephemeral,
// index and timestamp fixed, and prints the transcript: every input and every datagram in
// hex. Tests/WireGuardTests replays it to check our handshake byte for byte.
//
//   wireguard-probe initiate|respond key=value…
//     private=B64 peer-public=B64 [psk=B64] ephemeral=B64 index=N bind=IP:PORT peer=IP:PORT
//     inner-source=IP inner-destination=IP [timestamp=SECONDS.NANOS] (initiate only)
@preconcurrency import Glibc
import WireGuard

setvbuf(stdout, nil, _IOLBF, 0)
let arguments = Array(CommandLine.arguments.dropFirst())
guard let role = arguments.first, role == "initiate" || role == "respond" else {
  fputs("usage: wireguard-probe initiate|respond key=value…\n", stderr)
  exit(2)
}
let values: [String: String] = {
  var values: [String: String] = [:]
  for argument in arguments.dropFirst() {
    guard let equals = argument.firstIndex(of: "=") else {
      fputs("wireguard-probe: \(argument): want key=value\n", stderr)
      exit(2)
    }
    values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
  }
  return values
}()

func value(_ key: String, in values: [String: String] = values) throws -> String {
  guard let text = values[key] else { throw ProbeError("missing \(key)=") }
  return text
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
  bytes.map {
    String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16)
  }
  .joined()
}

/// A transport message carrying `packet` (padded to 16 bytes), sealed with `keys`. Fails
/// when OpenSSL does: a transcript with an unsealed message would mislead.
func transportMessage(_ packet: [UInt8], keys: TransportKeys, counter: UInt64) throws
  -> [UInt8]
{
  let padded = packet.count + TransportPadding.paddingLength(plaintextLength: packet.count, mtu: 0)
  var message = [UInt8](repeating: 0, count: 16 + padded + 16)
  message.replaceSubrange(16..<16 + packet.count, with: packet)
  let sealer = keys.makeSealer()
  let sealed = message.withUnsafeMutableBytes { buffer in
    TransportMessage.writeHeader(into: buffer, receiverIndex: keys.remoteIndex, counter: counter)
    return sealer.seal(buffer.baseAddress! + 16, length: padded, counter: counter)
  }
  guard sealed else { throw ProbeError("sealing the transport message failed") }
  return message
}

/// The plaintext of a transport message from the peer, or nil when it does not open.
func opened(_ datagram: [UInt8], keys: TransportKeys) -> [UInt8]? {
  var bytes = datagram
  return bytes.withUnsafeMutableBytes { buffer -> [UInt8]? in
    guard let message = TransportMessage(UnsafeRawBufferPointer(buffer)),
      message.receiverIndex == keys.localIndex
    else { return nil }
    let counter = message.counter
    let length = message.plaintextLength
    guard keys.makeOpener().open(buffer.baseAddress! + 16, length: length + 16, counter: counter)
    else { return nil }
    return Array(buffer[16..<16 + length])
  }
}

do {
  let identity = StaticIdentity(privateKey: try SecretKey(base64: value("private")))
  let peerPublic = try PublicKey(base64: value("peer-public"))
  let psk = try values["psk"].map { try SecretKey(base64: $0) }
  let handshake = try PeerHandshake(identity: identity, remoteStatic: peerPublic, presharedKey: psk)
  let ephemeral = try SecretKey(base64: value("ephemeral"))
  guard let index = UInt32(try value("index")) else { throw ProbeError("index= wants a number") }
  let udp = try ProbeUDP(bind: value("bind"), peer: value("peer"))
  print("role \(role)")
  for key in ["private", "peer-public", "psk", "ephemeral", "index", "timestamp"] {
    if let text = values[key] { print("\(key) \(text)") }
  }
  let now = Duration.seconds(1)
  if role == "initiate" {
    guard let source = InnerPacket.address(try value("inner-source")),
      let destination = InnerPacket.address(try value("inner-destination"))
    else { throw ProbeError("inner-source= and inner-destination= want IPv4 addresses") }
    let stamp = try value("timestamp").split(separator: ".")
    guard stamp.count == 2, let seconds = Int64(stamp[0]), let nanos = UInt32(stamp[1]) else {
      throw ProbeError("timestamp= wants SECONDS.NANOS")
    }
    var initiation = [UInt8](repeating: 0, count: MessageType.handshakeInitiation.size)
    try initiation.withUnsafeMutableBytes { buffer in
      try handshake.createInitiation(
        into: buffer, localIndex: index, ephemeral: ephemeral,
        timestamp: TAI64N(unixSeconds: seconds, nanoseconds: nanos), now: now)
    }
    try udp.send(initiation)
    print("initiation \(hex(initiation))")
    let response = try udp.receive(type: 2, seconds: 5)
    print("response \(hex(response))")
    let keys = try response.withUnsafeBytes { buffer in
      try handshake.consumeResponse(buffer, now: now)
    }
    let echo = InnerPacket.echoRequest(from: source, to: destination, sequence: 1)
    let request = try transportMessage(echo, keys: keys, counter: 0)
    try udp.send(request)
    print("request \(hex(request))")
    print("request-plaintext \(hex(echo))")
    // wireguard-go may send a keepalive first; the echo reply is the first non-empty one.
    while true {
      let reply = try udp.receive(type: 4, seconds: 5)
      guard let plain = opened(reply, keys: keys) else { throw ProbeError("reply did not open") }
      if plain.isEmpty { continue }
      print("reply \(hex(reply))")
      print("reply-plaintext \(hex(plain))")
      break
    }
  } else {
    let initiation = try udp.receive(type: 1, seconds: 10)
    print("initiation \(hex(initiation))")
    let received = try initiation.withUnsafeBytes { buffer in
      try identity.decryptInitiation(buffer)
    }
    try handshake.consumeInitiation(received, now: now)
    var response = [UInt8](repeating: 0, count: MessageType.handshakeResponse.size)
    let keys = try response.withUnsafeMutableBytes { buffer in
      try handshake.createResponse(into: buffer, localIndex: index, ephemeral: ephemeral, now: now)
    }
    try udp.send(response)
    print("response \(hex(response))")
    while true {
      let data = try udp.receive(type: 4, seconds: 5)
      guard let plain = opened(data, keys: keys) else { throw ProbeError("data did not open") }
      if plain.isEmpty { continue }
      print("data \(hex(data))")
      print("data-plaintext \(hex(plain))")
      break
    }
  }
} catch {
  fputs("wireguard-probe: \(error)\n", stderr)
  exit(1)
}
