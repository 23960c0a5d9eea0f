import Testing

@Test func placeholderSubnetManager() { #expect(Bool(true)) }
