import Testing

@testable import Daemon

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct ChildCommandTests {
  private func sh(_ script: String, input: [UInt8] = []) throws -> ChildCommandOutput {
    try ChildCommand.run(path: "/bin/sh", arguments: ["-c", script], input: input)
  }

  @Test func feedsStdinAndKeepsStdoutStderrAndStatusApart() throws {
    let output = try sh("cat; echo oops >&2; exit 3", input: Array("*filter\nCOMMIT\n".utf8))
    #expect(
      output
        == ChildCommandOutput(
          status: 3, stdout: Array("*filter\nCOMMIT\n".utf8), stderr: Array("oops\n".utf8)))
  }

  @Test func noInputMeansAnImmediateEOF() throws {
    let output = try sh("wc -c")
    #expect(output.status == 0)
    #expect(String(decoding: output.stdout, as: UTF8.self).trimmingPrefix(" ") == "0\n")
  }

  /// A child that fills stderr before it reads any input, then echoes a megabyte: with one
  /// pipe served at a time this would stall forever.
  @Test func largeStreamsBothWaysNeverStall() throws {
    let input = (0..<1 << 20).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let output = try sh("head -c 300000 /dev/zero >&2; cat", input: input)
    #expect(output.status == 0)
    #expect(output.stdout == input)
    #expect(output.stderr.count == 300_000)
  }

  @Test func aChildThatStopsReadingDoesNotHurtTheParent() throws {
    let output = try sh("exit 0", input: [UInt8](repeating: 7, count: 1 << 20))
    #expect(output.status == 0)
  }

  @Test func aSignalEndsWith128PlusItsNumber() throws {
    #expect(try sh("kill -TERM $$").status == 128 + SIGTERM)
  }

  @Test func aMissingProgramIsAnErrno() {
    #expect(throws: ChildCommand.Failure(errno: ENOENT)) {
      try ChildCommand.run(path: "/nonexistent/iptables", arguments: [])
    }
  }

  /// The daemon blocks its termination signals (signalfd) and leaves descriptors open; a
  /// child must start with no signal blocked and only stdin, stdout and stderr.
  @Test func theChildInheritsNoBlockedSignalAndNoDescriptor() throws {
    var block = sigset_t()
    var previous = sigset_t()
    sigemptyset(&block)
    sigaddset(&block, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &block, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    let inherited = dup(0)  // without close-on-exec
    #expect(inherited > 2)
    defer { close(inherited) }
    // grep started directly reads its own mask (a shell's own may be all blocked for a moment
    // while it forks).
    let mask = try ChildCommand.run(
      path: "/bin/grep", arguments: ["^SigBlk:", "/proc/self/status"])
    #expect(String(decoding: mask.stdout, as: UTF8.self) == "SigBlk:\t0000000000000000\n")
    let descriptors = try sh("[ -e /proc/$$/fd/\(inherited) ] && echo leaked; echo checked")
    #expect(String(decoding: descriptors.stdout, as: UTF8.self) == "checked\n")
  }
}
