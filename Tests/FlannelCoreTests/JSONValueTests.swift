import FlannelCore
import Testing

@Suite struct JSONValueTests {
  /// Documents that must come back byte for byte after parse + serialize (compact input,
  /// member order and integer-ness preserved).
  @Test(arguments: [
    #"{"PublicIP":"10.37.7.195","BackendType":"vxlan","BackendData":{"VtepMAC":"82:4b:b6:2f:54:4e"}}"#,
    #"{"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}"#,
    #"{"z":1,"a":2,"m":[true,false,null,-7,0,9223372036854775807]}"#,
    #"[1.5,-0.25,100,"x",{},[]]"#,
    #""tab\there \"quoted\" back\\slash \u0001 nl\n""#,
    "\"caf\u{e9} \u{1F600}\"",
  ])
  func roundTrips(text: String) throws {
    #expect(try JSONValue.parse(text).serialized() == text)
  }

  /// Fuzz finding (Fuzz/JSON): "-0" was read as the integer 0 and written back as "0", so a
  /// value holding -0 changed on its way through us (Go keeps -0). It stays a double now.
  @Test func negativeZeroIsWrittenBackAsNegativeZero() throws {
    let value = try JSONValue.parse("-0")
    guard case .double(let d) = value else {
      Issue.record("-0 parsed as \(value)")
      return
    }
    #expect(d == 0 && d.sign == .minus)
    #expect(value.serialized() == "-0")
    #expect(try JSONValue.parse("[-0,0,-0.0]").serialized() == "[-0,0,-0]")
    #expect(try JSONValue.parse("0") == .int(0))
  }

  @Test func parsesStructure() throws {
    let value = try JSONValue.parse(
      " {\"Network\" : \"10.1.0.0/16\",\n \"SubnetLen\": 24, \"x\": 1.0 } ")
    #expect(
      value
        == .object([
          JSONMember("Network", .string("10.1.0.0/16")),
          JSONMember("SubnetLen", .int(24)),
          JSONMember("x", .double(1)),
        ]))
  }

  @Test func compactsWhitespace() throws {
    let value = try JSONValue.parse("{ \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } }")
    #expect(value.serialized() == #"{"a":[1,2],"b":{}}"#)
  }

  @Test(arguments: [
    (#""\u00e9\/""#, "é/"),
    (#""\ud83d\ude00""#, "😀"),
    (#""\ud83d x""#, "\u{FFFD} x"),
    (#""\b\f\r""#, "\u{08}\u{0C}\r"),
  ])
  func decodesEscapes(text: String, expected: String) throws {
    #expect(try JSONValue.parse(text) == .string(expected))
  }

  @Test(arguments: [
    (JSONValue.double(1.5), "1.5"),
    (.double(1), "1"),
    (.double(-0.0001), "-0.0001"),
    (.double(1e-7), "1e-7"),
    (.double(1e21), "1e+21"),
    (.double(123456789012), "123456789012"),
    (.double(1.25e-5), "0.0000125"),
    (.string("a\u{2028}b<>&"), "\"a\\u2028b<>&\""),
    (.string("\u{1f}"), "\"\\u001f\""),
  ])
  func serializesLikeGo(value: JSONValue, expected: String) {
    #expect(value.serialized() == expected)
  }

  @Test(arguments: [
    ("", "unexpected end of JSON input at line 1, column 1 (byte offset 0)"),
    (
      "{\"a\":1,}",
      "invalid character '}' looking for beginning of object key string at line 1, column 8 (byte offset 7)"
    ),
    ("{\n  \"a\" 1}", "invalid character '1' after object key at line 2, column 7 (byte offset 8)"),
    ("[1 2]", "invalid character '2' after array element at line 1, column 4 (byte offset 3)"),
    (
      "{\"a\":1 \"b\":2}",
      "invalid character '\"' after object key:value pair at line 1, column 8 (byte offset 7)"
    ),
    (
      "{\"a\":01}",
      "invalid character '1' after object key:value pair at line 1, column 7 (byte offset 6)"
    ),
    (
      "{\"a\": x}",
      "invalid character 'x' looking for beginning of value at line 1, column 7 (byte offset 6)"
    ),
    (
      "{\"a\":tru}",
      "invalid character '}' in literal true (expecting 'e') at line 1, column 9 (byte offset 8)"
    ),
    ("\"a\nb\"", "invalid character '\\n' in string literal at line 1, column 3 (byte offset 2)"),
    ("\"\\x\"", "invalid character 'x' in string escape code at line 1, column 3 (byte offset 2)"),
    (
      "\"\\u12g4\"",
      "invalid character 'g' in \\u hexadecimal character escape at line 1, column 6 (byte offset 5)"
    ),
    ("1.", "unexpected end of JSON input at line 1, column 3 (byte offset 2)"),
    ("-", "unexpected end of JSON input at line 1, column 2 (byte offset 1)"),
    ("1e400", "number 1e400 is out of range at line 1, column 1 (byte offset 0)"),
    ("{} {}", "invalid character '{' after top-level value at line 1, column 4 (byte offset 3)"),
    ("{\"a\":[1,2", "unexpected end of JSON input at line 1, column 10 (byte offset 9)"),
    (
      "'a'",
      "invalid character '\\'' looking for beginning of value at line 1, column 1 (byte offset 0)"
    ),
  ])
  func reportsSyntaxErrorsWithPosition(text: String, message: String) {
    #expect(throws: JSONParseError(message)) { try JSONValue.parse(text) }
  }

  @Test func limitsNestingDepth() {
    let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
    #expect((try? JSONValue.parse(fine)) != nil)
  }

  @Test func caseInsensitiveLookup() throws {
    let value = try JSONValue.parse(#"{"network":"a","SubnetLen":24,"Type":"x"}"#)
    #expect(value[caseInsensitive: "Network"] == .string("a"))
    #expect(value[caseInsensitive: "subnetlen"] == .int(24))
    #expect(value[caseInsensitive: "TYPE"] == .string("x"))
    #expect(value[caseInsensitive: "Backend"] == nil)
    #expect(value["network"] == .string("a"))
    #expect(value["Network"] == nil)
    #expect(JSONValue.int(1)[caseInsensitive: "a"] == nil)
  }

  /// Go assigns members in order, so with two spellings of one field the last one wins.
  @Test func repeatedKeysLastWins() throws {
    let value = try JSONValue.parse(#"{"Network":"first","network":"second"}"#)
    #expect(value[caseInsensitive: "Network"] == .string("second"))
    let exact = try JSONValue.parse(#"{"network":"first","Network":"second"}"#)
    #expect(exact[caseInsensitive: "Network"] == .string("second"))
  }
}
