import Backends
import Testing

@Suite struct UDPPortChoiceTests {
  @Test(arguments: [
    (nil as Int?, 0, 8285, false),
    (7890, 0, 7890, false),
    (0, 0, 8285, false),
    (nil, 7890, 7890, false),
    (7890, 7890, 7890, false),
    (8285, 7890, 7890, true),
  ])
  func portFromConfigAndCommandLine(config: Int?, commandLine: Int, port: Int, warns: Bool) {
    let choice = UDPPortChoice.resolve(configPort: config, commandLine: commandLine)
    #expect(choice.port == port)
    #expect((choice.warning != nil) == warns)
    if warns {
      #expect(choice.warning?.contains("every node of the cluster must use the same port") == true)
    }
  }
}
