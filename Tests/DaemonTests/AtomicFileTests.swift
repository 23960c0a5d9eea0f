import Testing

@testable import Daemon

#if canImport(Glibc)
  import Glibc
#endif

/// A fresh directory under /tmp, removed (recursively) when the test ends.
struct TemporaryDirectory: ~Copyable {
  let path: String

  init() throws {
    var template = Array("/tmp/daemon-tests-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
      throw AtomicFileError(operation: "mkdtemp", object: "/tmp", errno: errno)
    }
    path = String(cString: made)
  }

  deinit {
    _ = system("rm -rf '\(path)'")
  }
}

private func entries(_ directory: String) -> [String] {
  guard let dir = opendir(directory) else { return [] }
  defer { closedir(dir) }
  var names: [String] = []
  while let entry = readdir(dir) {
    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
      String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
    }
    if name != "." && name != ".." { names.append(name) }
  }
  return names.sorted()
}

private func mode(of path: String) -> mode_t? {
  var info = stat()
  return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
}

@Test func writesContentWithModeAndNoLeftovers() throws {
  let dir = try TemporaryDirectory()
  let path = dir.path + "/subnet.env"
  let old = umask(0o077)
  defer { umask(old) }
  let text = "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.15.1/24\n"
  try AtomicFile.write(text, to: path)
  #expect(try AtomicFile.read(path) == text)
  #expect(mode(of: path) == 0o644)
  #expect(entries(dir.path) == ["subnet.env"])
}

@Test func replacesExistingFileAndHonoursMode() throws {
  let dir = try TemporaryDirectory()
  let path = dir.path + "/f"
  try AtomicFile.write("one\n", to: path)
  try AtomicFile.write("two\n", to: path, mode: 0o600)
  #expect(try AtomicFile.read(path) == "two\n")
  #expect(mode(of: path) == 0o600)
  #expect(entries(dir.path) == ["f"])
}

@Test func createsParentDirectories() throws {
  let dir = try TemporaryDirectory()
  let path = dir.path + "/run/flannel/subnet.env"
  try AtomicFile.write("x", to: path)
  #expect(try AtomicFile.read(path) == "x")
  var info = stat()
  #expect(stat(dir.path + "/run/flannel", &info) == 0)
  #expect(info.st_mode & S_IFMT == S_IFDIR)
}

@Test func writesEmptyContent() throws {
  let dir = try TemporaryDirectory()
  try AtomicFile.write("", to: dir.path + "/empty")
  #expect(try AtomicFile.read(dir.path + "/empty") == "")
}

@Test func readOfMissingFileIsNil() throws {
  let dir = try TemporaryDirectory()
  #expect(try AtomicFile.read(dir.path + "/absent") == nil)
}

@Test func readOfDirectoryFails() throws {
  let dir = try TemporaryDirectory()
  #expect(throws: AtomicFileError(operation: "read", object: dir.path, errno: EISDIR)) {
    try AtomicFile.read(dir.path)
  }
}

@Test func parentThatIsAFileGivesClearError() throws {
  let dir = try TemporaryDirectory()
  try AtomicFile.write("not a dir", to: dir.path + "/blocker")
  let error = #expect(throws: AtomicFileError.self) {
    try AtomicFile.write("x", to: dir.path + "/blocker/sub/subnet.env")
  }
  #expect(error?.description == "create directory \(dir.path)/blocker/sub: Not a directory")
  #expect(entries(dir.path) == ["blocker"])
}

@Test func unwritableLocationGivesClearError() throws {
  // /proc/sys exists but refuses new files, for root too.
  let error = #expect(throws: AtomicFileError.self) {
    try AtomicFile.write("x", to: "/proc/sys/subnet.env")
  }
  #expect(error?.operation == "create temporary file")
  #expect(error?.object.hasPrefix("/proc/sys/.subnet.env.") == true)
  #expect(error.map { [ENOENT, EACCES, EPERM].contains($0.errno) } == true)
  #expect(error?.description.hasPrefix("create temporary file /proc/sys/.subnet.env.") == true)
}

// Directory permissions do not stop root, so this one runs only as another user.
@Test(.enabled(if: geteuid() != 0, "root ignores directory permissions"))
func readOnlyDirectoryGivesClearErrorAndKeepsTarget() throws {
  let dir = try TemporaryDirectory()
  let locked = dir.path + "/locked"
  try AtomicFile.write("old\n", to: locked + "/subnet.env")
  chmod(locked, 0o555)
  defer { chmod(locked, 0o755) }
  let error = #expect(throws: AtomicFileError.self) {
    try AtomicFile.write("new\n", to: locked + "/subnet.env")
  }
  #expect(error?.description.hasPrefix("create temporary file \(locked)/.subnet.env.") == true)
  #expect(error?.description.hasSuffix(": Permission denied") == true)
  #expect(try AtomicFile.read(locked + "/subnet.env") == "old\n")
  #expect(entries(locked) == ["subnet.env"])
}
