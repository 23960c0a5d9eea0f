import Testing

@Test func placeholderBackends() { #expect(Bool(true)) }
