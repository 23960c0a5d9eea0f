/// Test helper: bytes from hexadecimal text (spaces and colons ignored), and back.
func hex(_ text: String) -> [UInt8] {
  let digits = text.filter { $0.isHexDigit }
  precondition(digits.count % 2 == 0, "odd number of hex digits")
  var out: [UInt8] = []
  var index = digits.startIndex
  while index < digits.endIndex {
    let next = digits.index(index, offsetBy: 2)
    out.append(UInt8(digits[index..<next], radix: 16)!)
    index = next
  }
  return out
}

func hexString(_ bytes: [UInt8]) -> String {
  bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
