import Foundation
import Testing

@testable import WireGuard

/// Our handshake against a real WireGuard implementation: transcripts recorded by
/// Scripts/wireguard-transcript.sh between wireguard-probe (our code, keys, ephemeral, index
/// and timestamp fixed) and Debian's wireguard-go, every input and datagram in hex. Replayed
/// here, our side must write the very bytes wireguard-go accepted, and the keys it derives
/// must open what wireguard-go sent back — an echo reply to our request, or the ping that made
/// wireguard-go initiate.
@Suite struct WireGuardGoTranscriptTests {
  /// `key value` lines of a transcript (comments skipped).
  static func transcript(_ name: String) throws -> [String: String] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Transcripts/\(name)")
    var fields: [String: String] = [:]
    for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    where !line.hasPrefix("#") {
      let parts = line.split(separator: " ", maxSplits: 1)
      if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
    }
    return fields
  }

  static func field(_ fields: [String: String], _ key: String) throws -> String {
    try #require(fields[key], "transcript lacks \(key)")
  }

  /// The plaintext of transport message `datagram`, opened with `keys`.
  static func open(_ datagram: [UInt8], with keys: TransportKeys) -> [UInt8]? {
    var bytes = datagram
    return bytes.withUnsafeMutableBytes { buffer -> [UInt8]? in
      guard let message = TransportMessage(UnsafeRawBufferPointer(buffer)),
        message.receiverIndex == keys.localIndex
      else { return nil }
      let length = message.plaintextLength
      guard
        keys.makeOpener().open(
          buffer.baseAddress! + TransportLayout.headerSize, length: length + 16,
          counter: message.counter)
      else { return nil }
      return Array(buffer[TransportLayout.headerSize..<TransportLayout.headerSize + length])
    }
  }

  @Test func weInitiateWithAPresharedKey() throws {
    let t = try Self.transcript("wireguard-go-initiator.txt")
    let identity = StaticIdentity(privateKey: try SecretKey(base64: Self.field(t, "private")))
    let handshake = try PeerHandshake(
      identity: identity, remoteStatic: try PublicKey(base64: Self.field(t, "peer-public")),
      presharedKey: try SecretKey(base64: Self.field(t, "psk")))
    let stamp = try Self.field(t, "timestamp").split(separator: ".")
    var initiation = [UInt8](repeating: 0, count: InitiationLayout.size)
    try initiation.withUnsafeMutableBytes {
      try handshake.createInitiation(
        into: $0, localIndex: try #require(UInt32(Self.field(t, "index"))),
        ephemeral: try SecretKey(base64: Self.field(t, "ephemeral")),
        timestamp: TAI64N(unixSeconds: Int64(stamp[0])!, nanoseconds: UInt32(stamp[1])!),
        now: .seconds(1))
    }
    #expect(hexString(initiation) == (try Self.field(t, "initiation")))

    // wireguard-go's response completes our handshake; our first data message is the one it
    // decrypted, and its echo reply opens with our receiving key.
    let keys = try hex(Self.field(t, "response")).withUnsafeBytes {
      try handshake.consumeResponse($0, now: .seconds(1))
    }
    var request = hex(try Self.field(t, "request"))
    let plaintext = hex(try Self.field(t, "request-plaintext"))
    var sealed = [UInt8](repeating: 0, count: request.count)
    sealed.replaceSubrange(16..<16 + plaintext.count, with: plaintext)
    let sealer = keys.makeSealer()
    sealed.withUnsafeMutableBytes {
      TransportMessage.writeHeader(into: $0, receiverIndex: keys.remoteIndex, counter: 0)
      #expect(sealer.seal($0.baseAddress! + 16, length: request.count - 32, counter: 0))
    }
    #expect(sealed == request)
    let reply = try #require(Self.open(hex(Self.field(t, "reply")), with: keys))
    #expect(hexString(reply) == (try Self.field(t, "reply-plaintext")))
    #expect(reply[9] == 1 && reply[20] == 0, "an ICMP echo reply")
    #expect(Array(reply[12..<16]) == Array(plaintext[16..<20]), "from the address we pinged")
    request[request.count - 1] ^= 1
    #expect(Self.open(request, with: keys) == nil)

    // wireguard-go's side of it: with its private key our initiation reads back as ours.
    let responder = StaticIdentity(privateKey: try SecretKey(base64: Self.field(t, "peer-private")))
    let received = try initiation.withUnsafeBytes { try responder.decryptInitiation($0) }
    #expect(received.initiatorStatic == identity.publicKey)
  }

  @Test func weRespondWithoutAPresharedKey() throws {
    let t = try Self.transcript("wireguard-go-responder.txt")
    let identity = StaticIdentity(privateKey: try SecretKey(base64: Self.field(t, "private")))
    let peer = try PublicKey(base64: Self.field(t, "peer-public"))
    let handshake = try PeerHandshake(identity: identity, remoteStatic: peer)
    let received = try hex(Self.field(t, "initiation")).withUnsafeBytes {
      try identity.decryptInitiation($0)
    }
    #expect(received.initiatorStatic == peer)
    try handshake.consumeInitiation(received, now: .seconds(1))
    var response = [UInt8](repeating: 0, count: ResponseLayout.size)
    let keys = try response.withUnsafeMutableBytes {
      try handshake.createResponse(
        into: $0, localIndex: try #require(UInt32(Self.field(t, "index"))),
        ephemeral: try SecretKey(base64: Self.field(t, "ephemeral")), now: .seconds(1))
    }
    #expect(hexString(response) == (try Self.field(t, "response")))
    // The ping that made wireguard-go initiate, sent once our response reached it.
    let ping = try #require(Self.open(hex(Self.field(t, "data")), with: keys))
    #expect(hexString(ping) == (try Self.field(t, "data-plaintext")))
    #expect(ping[9] == 1 && ping[20] == 8, "an ICMP echo request")
  }
}
