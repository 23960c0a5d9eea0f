import Foundation

/// Key-range arithmetic of the v3 API.
enum V3KeyRange {
  /// The smallest key greater than every key with `prefix`: the prefix with its last byte
  /// below 0xff incremented; "\0" (to the end of the keyspace) if there is none.
  static func prefixEnd(_ prefix: String) -> [UInt8] {
    var bytes = Array(prefix.utf8)
    while let last = bytes.last {
      if last < 0xff {
        bytes[bytes.count - 1] = last + 1
        return bytes
      }
      bytes.removeLast()
    }
    return [0]
  }
}

extension Array where Element == UInt8 {
  var base64: String { Data(self).base64EncodedString() }
}
