import Daemon
import Testing

@Suite struct MetricsRegistryTests {
  @Test func exposition() {
    let registry = MetricsRegistry()
    let packets = registry.counter("x_packets_total", help: "Packets.\nSecond line \\ done.")
    let temperature = registry.gauge("x_temp", help: "Temp.")
    packets.add(labels: ["dir": "in"])
    packets.add(2, labels: ["dir": "in"])
    packets.set(5, labels: ["dir": "a\"b\\c\nd"])
    temperature.set(-1.5)
    #expect(
      registry.render() == """
        # HELP x_packets_total Packets.\\nSecond line \\\\ done.
        # TYPE x_packets_total counter
        x_packets_total{dir="a\\"b\\\\c\\nd"} 5
        x_packets_total{dir="in"} 3
        # HELP x_temp Temp.
        # TYPE x_temp gauge
        x_temp -1.5

        """)
    #expect(packets.value(labels: ["dir": "in"]) == 3)
  }

  @Test func labelOrderDoesNotMatterAndDeclaringTwiceKeepsValues() {
    let registry = MetricsRegistry()
    registry.gauge("g", help: "G.").set(1, labels: ["b": "2", "a": "1"])
    registry.gauge("g", help: "G.").add(1, labels: ["a": "1", "b": "2"])
    #expect(registry.render().hasSuffix("g{a=\"1\",b=\"2\"} 2\n"))
  }

  @Test func onScrapeRunsBeforeEachRender() {
    let registry = MetricsRegistry()
    let scrapes = registry.counter("scrapes_total", help: "Scrapes.")
    registry.onScrape { scrapes.add() }
    _ = registry.render()
    #expect(registry.render().hasSuffix("scrapes_total 2\n"))
  }
}
