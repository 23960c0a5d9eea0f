import Testing

@Test func placeholderDataPlane() { #expect(Bool(true)) }
