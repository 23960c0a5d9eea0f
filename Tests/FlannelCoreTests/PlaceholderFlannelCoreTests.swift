import Testing

@Test func placeholderFlannelCore() { #expect(Bool(true)) }
