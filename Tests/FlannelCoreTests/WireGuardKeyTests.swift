import FlannelCore
import Testing

@Suite struct WireGuardKeyTests {
  static let counting = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  // bytes 0...31
  static let countingDown = "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA="  // bytes 255...224

  @Test(arguments: [
    (counting, Array(UInt8(0)...31)),
    (countingDown, Array((UInt8(224)...255).reversed())),
    ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", [UInt8](repeating: 0, count: 32)),
  ])
  func readsAndWritesStandardBase64(text: String, bytes: [UInt8]) {
    let key = WireGuardKey(base64: text)
    #expect(key?.bytes == bytes)
    #expect(key?.base64 == text)
    #expect(WireGuardKey(bytes: bytes)?.base64 == text)
  }

  @Test(arguments: [
    counting + "\n", counting + "\r\n", "AAECAwQFBgcICQoL\nDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    // Go's decoder ignores the bits past the last byte: "9" ends like "8" but with a 1 bit.
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",
  ])
  func acceptsWhatGosDecoderAccepts(text: String) {
    #expect(WireGuardKey(base64: text)?.bytes == Array(UInt8(0)...31))
  }

  @Test(arguments: [
    "", " " + counting, counting + " ", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",  // 31 bytes
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  // 33 bytes
    "__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA=",  // URL-safe alphabet
    counting + "=", counting + "A", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd=Hh8",
  ])
  func refusesOtherText(text: String) {
    #expect(WireGuardKey(base64: text) == nil)
  }

  @Test func refusesOtherByteCounts() {
    #expect(WireGuardKey(bytes: [UInt8](repeating: 1, count: 31)) == nil)
    #expect(WireGuardKey(bytes: [UInt8](repeating: 1, count: 33)) == nil)
  }

  @Test func readsThePrivateKeyFileWithOrWithoutNewline() throws {
    #expect(try WireGuardKey.parsePrivateKeyFile(Self.counting + "\n").base64 == Self.counting)
    #expect(try WireGuardKey.parsePrivateKeyFile(Self.counting).base64 == Self.counting)
    #expect {
      try WireGuardKey.parsePrivateKeyFile("not a key\n")
    } throws: { error in
      let error = error as? WireGuardConfigError
      return error?.field == "private key file"
        && error?.description.hasPrefix("could not parse private key from file:") == true
    }
  }
}

@Suite struct WireGuardKeyFileTests {
  @Test(
    arguments: [
      ([:], "/run/flannel/wgkey"),
      (["WIREGUARD_KEY_FILE": "/etc/flannel/key"], "/etc/flannel/key"),
      (["WIREGUARD_KEY_FILE": ""], "/run/flannel/wgkey"),
      (["OTHER": "/x"], "/run/flannel/wgkey"),
    ] as [([String: String], String)])
  func pathFollowsTheEnvironment(environment: [String: String], path: String) {
    #expect(WireGuardKeyFile.path(environment: environment) == path)
  }

  @Test func contentsReadBackAsTheKey() throws {
    let key = WireGuardKey(bytes: Array(UInt8(100)..<132))!
    let contents = WireGuardKeyFile.contents(key)
    #expect(!contents.hasSuffix("\n") && contents.utf8.count == 44)
    #expect(try WireGuardKeyFile.parse(contents) == key)
    #expect(try WireGuardKeyFile.parse(contents + "\n") == key)
    #expect(WireGuardKeyFile.mode == 0o400)
  }

  /// A config or lease data printed whole must not show a private key or the PSK.
  @Test func descriptionHidesTheKey() throws {
    let key = try #require(WireGuardKey(bytes: [UInt8](repeating: 7, count: 32)))
    #expect(key.description == "WireGuardKey(32 bytes)")
    #expect(!"\(key)".contains(key.base64))
    let config = WireGuardBackendConfig(psk: key)
    #expect(!"\(config)".contains(key.base64))
  }
}
