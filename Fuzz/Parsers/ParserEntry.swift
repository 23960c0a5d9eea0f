import Glibc

/// libFuzzer entry points of the parser fuzzer: one binary for every parser of input from
/// outside, the target picked by FLANNEL_FUZZ_TARGET (Scripts/fuzz.sh sets it). Every target
/// reads the whole input as raw text for its parser and, from the same bytes, builds a valid
/// value whose round trip it checks.
nonisolated(unsafe) let parserTargets: [any ParserTarget.Type] = [
  JSONTarget.self, NetworkConfigTarget.self, LeaseTarget.self, SubnetKeyTarget.self,
  SubnetEnvTarget.self, V2TimeTarget.self, V2ResponseTarget.self, V3WatchTarget.self,
  FlagsTarget.self, HTTPTarget.self, WireGuardHandshakeTarget.self, WGMessageTarget.self,
  WGReplayTarget.self, WGConfigTarget.self, WGDeviceTarget.self,
]

/// What every target provides: its name, the checks that must have run at least once for a
/// run to count (Scripts/fuzz.sh fails otherwise), and the check of one input.
protocol ParserTarget {
  static var name: String { get }
  static var requiredChecks: [String] { get }
  static func run(_ bytes: UnsafeBufferPointer<UInt8>)
}

nonisolated(unsafe) var selectedTarget: (any ParserTarget.Type)?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  selectedTarget?.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
  _ argc: UnsafeMutablePointer<CInt>?,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
  selectTarget()
  atexit { Checks.report() }
  return 0
}

/// Picks the target named by FLANNEL_FUZZ_TARGET; exits 2 naming the choices if none.
func selectTarget() {
  let name = getenv("FLANNEL_FUZZ_TARGET").map { String(cString: $0) } ?? ""
  for target in parserTargets where target.name == name {
    selectedTarget = target
    return
  }
  let names = parserTargets.map { $0.name }.joined(separator: ", ")
  let text = "fuzz: set FLANNEL_FUZZ_TARGET to one of: \(names) (got \"\(name)\")\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
  exit(2)
}
