import WireGuard

/// The WireGuard message classifier and views (`MessageType.classify`, the four message
/// views, the writers, `TransportPadding`). The input as a received datagram: the class
/// agrees with a reference of the protocol's rules, and every field a view gives lies inside
/// the datagram, where the layout puts it, with the value its bytes spell. From the same
/// bytes, messages written with the writers classify as their type and read back their
/// fields. Padding stays within 16 bytes and the MTU.
enum WGMessageTarget: ParserTarget {
  static let name = "wgmessage"
  static let requiredChecks = [
    "classified input", "initiation fields", "response fields", "cookie reply fields",
    "transport fields", "dropped input", "written message round trip", "padding",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let datagram = UnsafeRawBufferPointer(bytes)
    let found = MessageType.classify(datagram)
    require(found == reference(datagram), "classify \(Array(bytes.prefix(8))) → \(found)")
    Checks.count("classified input")
    switch found {
    case .drop: Checks.count("dropped input")
    case .message(.handshakeInitiation): checkInitiation(datagram)
    case .message(.handshakeResponse): checkResponse(datagram)
    case .message(.cookieReply): checkCookieReply(datagram)
    case .message(.transportData): checkTransport(datagram)
    }
    var input = FuzzInput(bytes)
    writeAndRead(&input)
    checkPadding(&input)
  }

  /// The protocol's rules, written out plainly: type 1–4 in the first byte, then three zero
  /// bytes, then the exact size for a handshake message or at least 32 bytes for transport.
  static func reference(_ d: UnsafeRawBufferPointer) -> DatagramClass {
    let exact: [UInt8: Int] = [1: 148, 2: 92, 3: 64]
    guard d.count >= 1, (1...4).contains(d[0]) else { return .drop(.badType) }
    guard d.count >= 4 else { return .drop(.badSize) }
    guard d[1] == 0, d[2] == 0, d[3] == 0 else { return .drop(.reservedNonzero) }
    let type = MessageType(rawValue: d[0])!
    if let size = exact[d[0]] { return d.count == size ? .message(type) : .drop(.badSize) }
    return d.count >= 32 ? .message(type) : .drop(.badSize)
  }

  /// The value of the little-endian integer in `range`, byte by byte.
  static func littleEndian(_ d: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64 {
    range.reversed().reduce(0) { $0 << 8 | UInt64(d[$1]) }
  }

  /// `slice` is exactly `range` of `whole`.
  static func requireSlice(
    _ slice: UnsafeRawBufferPointer, is range: Range<Int>, of whole: UnsafeRawBufferPointer,
    _ field: String
  ) {
    guard let base = whole.baseAddress, let start = slice.baseAddress else {
      require(range.isEmpty, "\(field): empty slice for \(range)")
      return
    }
    let offset = start - base
    require(
      offset == range.lowerBound && slice.count == range.count && range.upperBound <= whole.count,
      "\(field) at \(offset)..<\(offset + slice.count), expected \(range) of \(whole.count)")
  }

  static func checkInitiation(_ d: UnsafeRawBufferPointer) {
    guard let m = HandshakeInitiationMessage(d) else {
      fatalError("property failed: classified initiation has no view")
    }
    require(UInt64(m.senderIndex) == littleEndian(d, 4..<8), "initiation sender index")
    requireSlice(m.unencryptedEphemeral, is: 8..<40, of: d, "ephemeral")
    requireSlice(m.encryptedStatic, is: 40..<88, of: d, "static")
    requireSlice(m.encryptedTimestamp, is: 88..<116, of: d, "timestamp")
    requireSlice(m.mac1, is: 116..<132, of: d, "initiation mac1")
    requireSlice(m.mac2, is: 132..<148, of: d, "initiation mac2")
    requireSlice(m.coveredByMAC1, is: 0..<116, of: d, "initiation mac1 cover")
    requireSlice(m.coveredByMAC2, is: 0..<132, of: d, "initiation mac2 cover")
    Checks.count("initiation fields")
  }

  static func checkResponse(_ d: UnsafeRawBufferPointer) {
    guard let m = HandshakeResponseMessage(d) else {
      fatalError("property failed: classified response has no view")
    }
    require(UInt64(m.senderIndex) == littleEndian(d, 4..<8), "response sender index")
    require(UInt64(m.receiverIndex) == littleEndian(d, 8..<12), "response receiver index")
    requireSlice(m.unencryptedEphemeral, is: 12..<44, of: d, "response ephemeral")
    requireSlice(m.encryptedNothing, is: 44..<60, of: d, "empty")
    requireSlice(m.mac1, is: 60..<76, of: d, "response mac1")
    requireSlice(m.mac2, is: 76..<92, of: d, "response mac2")
    requireSlice(m.coveredByMAC1, is: 0..<60, of: d, "response mac1 cover")
    requireSlice(m.coveredByMAC2, is: 0..<76, of: d, "response mac2 cover")
    Checks.count("response fields")
  }

  static func checkCookieReply(_ d: UnsafeRawBufferPointer) {
    guard let m = CookieReplyMessage(d) else {
      fatalError("property failed: classified cookie reply has no view")
    }
    require(UInt64(m.receiverIndex) == littleEndian(d, 4..<8), "cookie receiver index")
    requireSlice(m.nonce, is: 8..<32, of: d, "nonce")
    requireSlice(m.encryptedCookie, is: 32..<64, of: d, "cookie")
    Checks.count("cookie reply fields")
  }

  static func checkTransport(_ d: UnsafeRawBufferPointer) {
    guard let m = TransportMessage(d) else {
      fatalError("property failed: classified transport has no view")
    }
    require(UInt64(m.receiverIndex) == littleEndian(d, 4..<8), "transport receiver index")
    require(m.counter == littleEndian(d, 8..<16), "transport counter")
    require(m.payloadRange == 16..<d.count, "payload range \(m.payloadRange) of \(d.count)")
    requireSlice(m.sealedPayload, is: 16..<d.count, of: d, "payload")
    require(m.plaintextLength == d.count - 32 && m.plaintextLength >= 0, "plaintext length")
    require(m.isKeepalive == (d.count == 32), "keepalive")
    Checks.count("transport fields")
  }

  /// A message of a type picked by the input, written with its writer over a buffer of
  /// junk, fields filled from the input; it must classify as its type and read back.
  static func writeAndRead(_ input: inout FuzzInput) {
    let pick = input.byte() % 4
    let a = input.u32()
    let b = input.u32()
    let counter = input.u64()
    let fill = input.byte()
    let size = [148, 92, 64, 32 + Int(input.u16() % 1500)][Int(pick)]
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
    let read = UnsafeRawBufferPointer(buffer)
    switch pick {
    case 0:
      guard let w = HandshakeInitiationWriter(into: buffer, senderIndex: a) else {
        fatalError("property failed: initiation writer refused 148 bytes")
      }
      w.encryptedStatic.initializeMemory(as: UInt8.self, repeating: fill)
      let m = HandshakeInitiationMessage(read)
      require(
        m?.senderIndex == a && m?.encryptedStatic.allSatisfy({ $0 == fill }) == true
          && m?.mac1.allSatisfy({ $0 == 0xA5 }) == true, "initiation written and read")
    case 1:
      guard let w = HandshakeResponseWriter(into: buffer, senderIndex: a, receiverIndex: b) else {
        fatalError("property failed: response writer refused 92 bytes")
      }
      w.mac2.initializeMemory(as: UInt8.self, repeating: fill)
      let m = HandshakeResponseMessage(read)
      require(
        m?.senderIndex == a && m?.receiverIndex == b && m?.mac2.allSatisfy({ $0 == fill }) == true,
        "response written and read")
    case 2:
      guard let w = CookieReplyWriter(into: buffer, receiverIndex: b) else {
        fatalError("property failed: cookie writer refused 64 bytes")
      }
      w.nonce.initializeMemory(as: UInt8.self, repeating: fill)
      let m = CookieReplyMessage(read)
      require(
        m?.receiverIndex == b && m?.nonce.allSatisfy({ $0 == fill }) == true,
        "cookie reply written and read")
    default:
      require(
        TransportMessage.writeHeader(into: buffer, receiverIndex: b, counter: counter),
        "transport header refused \(size) bytes")
      let m = TransportMessage(read)
      require(
        m?.receiverIndex == b && m?.counter == counter && m?.payloadRange == 16..<size
          && read[16...].allSatisfy({ $0 == 0xA5 }), "transport written and read")
    }
    Checks.count("written message round trip")
  }

  static func checkPadding(_ input: inout FuzzInput) {
    let mtu = Int(input.u16())
    let length = Int(input.u16()) % (mtu == 0 ? 65536 : mtu + 1)
    let padding = TransportPadding.paddingLength(plaintextLength: length, mtu: mtu)
    let padded = length + padding
    require(padding >= 0 && padding < 16, "padding \(padding) for \(length) in MTU \(mtu)")
    require(mtu == 0 || padded <= mtu, "padded \(padded) past MTU \(mtu)")
    require(padded % 16 == 0 || padded == mtu, "padded \(padded) neither aligned nor the MTU")
    Checks.count("padding")
  }
}
