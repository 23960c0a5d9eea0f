import SystemCalls

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file writes that readers never see half done, as stock flanneld writes
/// subnet.env: the content goes to a hidden temporary file next to the target, which is then
/// renamed over it (rename(2) is atomic within a directory).
public enum AtomicFile {
  /// Creates missing parent directories (0755), writes `.<basename>.<random>` in the target's
  /// directory with exactly `mode` (umask does not apply), fsyncs it and renames it over
  /// `path`. On failure the temporary file is removed and the target is untouched.
  public static func write(_ contents: String, to path: String, mode: mode_t = 0o644) throws {
    let (directory, basename) = split(path)
    try makeDirectories(directory)
    let temporary = directory + "/." + basename + "." + randomSuffix()

    let file = OwnedDescriptor(
      try retryingOnEINTR("create temporary file", object: temporary) {
        open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
      })
    var renamed = false
    defer { if !renamed { unlink(temporary) } }
    let fd = file.rawValue
    try writeAll(Array(contents.utf8), to: fd, path: temporary)
    try retryingOnEINTR("set mode of", object: temporary) { fchmod(fd, mode) }
    try retryingOnEINTR("fsync", object: temporary) { fsync(fd) }
    file.close()
    try retryingOnEINTR("rename \(temporary) to", object: path) { rename(temporary, path) }
    renamed = true
    syncDirectory(directory)
  }

  /// The file's contents, or nil when it does not exist.
  public static func read(_ path: String) throws -> String? {
    let opened: Int32
    do throws(SystemCallError) {
      opened = try retryingOnEINTR("open", object: path) { open(path, O_RDONLY | O_CLOEXEC) }
    } catch {
      if error.errno == ENOENT { return nil }
      throw error
    }
    let file = OwnedDescriptor(opened)
    let fd = file.rawValue
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = try retryingOnEINTR("read", object: path) {
        chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
      }
      if count == 0 { break }
      bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func split(_ path: String) -> (directory: String, basename: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = String(path[..<slash])
    return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
  }

  /// `mkdir -p` with 0755 for the directories it creates.
  private static func makeDirectories(_ directory: String) throws {
    var prefix = directory.hasPrefix("/") ? "" : "."
    for component in directory.split(separator: "/") {
      prefix += "/" + component
      do throws(SystemCallError) {
        try retryingOnEINTR("create directory", object: prefix) { mkdir(prefix, 0o755) }
      } catch {
        // (Not `catch where`: a partial catch of a typed throw crashes Swift 6.3.1's SIL passes.)
        if error.errno != EEXIST { throw error }
      }
    }
    var info = stat()
    try retryingOnEINTR("stat directory", object: directory) { stat(directory, &info) }
    if info.st_mode & S_IFMT != S_IFDIR {
      throw AtomicFileError(operation: "use as directory", object: directory, errno: ENOTDIR)
    }
  }

  private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
    try bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let start = buffer.baseAddress! + offset
        let remaining = buffer.count - offset
        offset += try retryingOnEINTR("write", object: path) { systemWrite(fd, start, remaining) }
      }
    }
  }

  /// Makes the rename itself durable; best effort (a failure here loses nothing already
  /// visible to readers).
  private static func syncDirectory(_ directory: String) {
    guard
      let fd = try? retryingOnEINTR("open", { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) })
    else { return }
    let handle = OwnedDescriptor(fd)
    fsync(handle.rawValue)
  }

  private static func randomSuffix() -> String {
    String(UInt64.random(in: 0...UInt64.max), radix: 36)
  }
}

/// write(2) under a name that methods called `write` cannot shadow.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
  write(fd, bytes, count)
}

/// read(2) under a name that methods called `read` cannot shadow.
private func systemRead(_ fd: Int32, _ bytes: UnsafeMutableRawPointer?, _ count: Int) -> Int {
  read(fd, bytes, count)
}
