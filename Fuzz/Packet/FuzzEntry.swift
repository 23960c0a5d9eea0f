import Glibc

/// libFuzzer entry points. The first input byte picks the case: half of the inputs build a
/// clean run of TCP segments or UDP datagrams (the round trip of part (a)), the rest are raw
/// TCP and UDP trains and raw super-packets (part (b)); 8: an IPv6 packet, 9: an IPv6
/// super-packet (`IPv6Input`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(UnsafeBufferPointer(start: data, count: size))
  switch input.byte() % 10 {
  case 0, 1: GeneratedRun.run(&input)
  case 2: RawInput.train(&input)
  case 4, 5: GeneratedUDPRun.run(&input)
  case 6: RawInput.train(&input, udp: true)
  case 8: IPv6Input.run(&input)
  case 9: IPv6Input.superPacket(&input)
  default: RawInput.superPacket(&input)
  }
  return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
  _ argc: UnsafeMutablePointer<CInt>?,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
  atexit { Stats.report() }
  return 0
}
