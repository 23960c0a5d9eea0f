import Testing
import WireGuard

@Suite struct MessageTypeTests {
  @Test func sizesAreTheProtocols() {
    #expect(MessageType.handshakeInitiation.size == 148)
    #expect(MessageType.handshakeResponse.size == 92)
    #expect(MessageType.cookieReply.size == 64)
    #expect(MessageType.transportData.size == 32)
    #expect(MessageType.allCases.map(\.rawValue) == [1, 2, 3, 4])
  }
}
