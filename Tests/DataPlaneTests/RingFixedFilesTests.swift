import CLibURing
import Testing

@testable import DataPlane

#if canImport(Glibc)
  import Glibc
#endif

/// Registered files against the real kernel: a descriptor registered at its own number is
/// reached through that number with IOSQE_FIXED_FILE even after the process pointed the
/// number at another file (the ring's table holds the registered one), and the plain number
/// reaches the other file — so registering at other indices, or a flag that does not take,
/// fails here.
@Suite struct RingFixedFilesTests {
  @Test func registeredDescriptorIsReadThroughItsNumberWithTheFlagOnly() throws {
    let ring = try BufferRingTests.ring()
    let pipe = BufferRingTests.nonBlockingPipe()
    defer { close(pipe.write) }
    #expect(ring.registerFilesAtTheirNumbers([pipe.read]))
    // The number now names /dev/null for the process (dup2 leaves no window in which a
    // parallel test could take it); only the ring's table still holds the pipe's read end.
    let null = open("/dev/null", O_RDONLY)
    try #require(null >= 0)
    #expect(dup2(null, pipe.read) == pipe.read)
    close(null)
    defer { close(pipe.read) }
    #expect(write(pipe.write, "hello", 5) == 5)
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
    defer { buffer.deallocate() }

    for fixed in [false, true] {
      let sqe = try #require(ring.sqe())
      io_uring_prep_read(sqe, pipe.read, buffer, 16, 0)
      if fixed { sqe.pointee.flags |= UInt8(truncatingIfNeeded: 1 << IOSQE_FIXED_FILE_BIT) }
      let completion = BufferRingTests.next(ring)
      if fixed {
        #expect(completion.result == 5)
        #expect(BufferRingTests.text(buffer, max(completion.result, 0)) == "hello")
      } else {
        #expect(completion.result == 0, "the plain number reads /dev/null: end of file")
      }
    }
    ring.unregisterFiles()
  }
}
