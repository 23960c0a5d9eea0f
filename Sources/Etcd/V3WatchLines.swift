/// Cuts the v3 watch stream's bytes into lines as chunks arrive: every complete line that is
/// not blank (spaces and CR only), without its newline. The lines do not depend on how the
/// bytes were split into chunks.
struct V3WatchLines {
  private var pending: [UInt8] = []
  /// Bytes of `pending` already searched for a newline (a long line arriving in many
  /// chunks is scanned once, not once per chunk).
  private var scanned = 0

  mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [ArraySlice<UInt8>] {
    pending.append(contentsOf: chunk)
    var lines: [ArraySlice<UInt8>] = []
    var lineStart = 0
    while let newline = pending[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
      let line = pending[lineStart..<newline]
      lineStart = newline + 1
      scanned = lineStart
      if !line.allSatisfy({ $0 == 32 || $0 == 13 }) { lines.append(line) }
    }
    pending.removeFirst(lineStart)
    scanned = pending.count
    return lines
  }
}
