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

    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    if fd < 0 {
      throw AtomicFileError(operation: "create temporary file", path: temporary, errno: errno)
    }
    var renamed = false
    defer { if !renamed { unlink(temporary) } }
    do {
      defer { close(fd) }
      try writeAll(Array(contents.utf8), to: fd, path: temporary)
      if fchmod(fd, mode) != 0 {
        throw AtomicFileError(operation: "set mode of", path: temporary, errno: errno)
      }
      if fsync(fd) != 0 { throw AtomicFileError(operation: "fsync", path: temporary, errno: errno) }
    }
    if rename(temporary, path) != 0 {
      throw AtomicFileError(operation: "rename \(temporary) to", path: path, errno: errno)
    }
    renamed = true
    syncDirectory(directory)
  }

  /// The file's contents, or nil when it does not exist.
  public static func read(_ path: String) throws -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw AtomicFileError(operation: "open", path: path, errno: errno)
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
      if count == 0 { break }
      if count < 0 {
        if errno == EINTR { continue }
        throw AtomicFileError(operation: "read", path: path, errno: errno)
      }
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
      if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
        throw AtomicFileError(operation: "create directory", path: prefix, errno: errno)
      }
    }
    var info = stat()
    if stat(directory, &info) != 0 {
      throw AtomicFileError(operation: "stat directory", path: directory, errno: errno)
    }
    if info.st_mode & S_IFMT != S_IFDIR {
      throw AtomicFileError(operation: "use as directory", path: directory, errno: ENOTDIR)
    }
  }

  private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
    try bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let written = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          throw AtomicFileError(operation: "write", path: path, errno: errno)
        }
        offset += written
      }
    }
  }

  /// Makes the rename itself durable; best effort (a failure here loses nothing already
  /// visible to readers).
  private static func syncDirectory(_ directory: String) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
      fsync(fd)
      close(fd)
    }
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
