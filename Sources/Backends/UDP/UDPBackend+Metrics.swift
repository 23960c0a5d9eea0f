import DataPlane

/// /metrics of the udp backend, generated from DataPlane's `Counter` and `UDPMetricFamily`.
extension UDPBackend {
  /// At scrape time: the forwarders' counters (relaxed loads), the offloads worker 0 has on
  /// (its offload mutex, which the packet path never takes) and the route table. Before
  /// `configure` only the route table has samples.
  public func metrics() -> [BackendMetric] {
    // An IPv6-only network has IPv6 routes only: those are the table then.
    let ipv4 = context.network.enableIPv4
    let (workers, generation, routes) = state.withLock {
      ($0.workers, $0.generation, ipv4 ? $0.routes.count : $0.routes6.count)
    }
    let dataPlane = workers.map { (workers: $0.workerCounters(), offloads: $0.offloads) }
    return Self.metrics(dataPlane: dataPlane, routeTable: (generation, routes))
  }

  /// Every udp family in order: `UDPMetricFamily`'s, then one per `Counter` per worker.
  /// `dataPlane`: each forwarder's counters (worker 0 first) and the offloads on now; nil
  /// leaves the counter-fed families empty. `routeTable`: snapshots handed to the forwarders
  /// so far and the routes in the latest one.
  public static func metrics(
    dataPlane: (workers: [ForwarderCounters], offloads: TunOffloads)?,
    routeTable: (generation: UInt64, routes: Int)?
  ) -> [BackendMetric] {
    var samples: [UDPMetricFamily: [BackendMetric.Sample]] = [:]
    if let dataPlane {
      let (workers, offloads) = (dataPlane.workers, dataPlane.offloads)
      let total = ForwarderCounters.sum(workers)
      for counter in Counter.allCases {
        guard let series = counter.info.series else { continue }
        samples[series.family, default: []].append(
          .init(labels: series.labels, value: Double(series.value(of: counter, in: total))))
        guard let perWorker = series.family.perWorker else { continue }
        for (index, counters) in workers.enumerated() {
          samples[perWorker, default: []].append(
            .init(
              labels: series.labels.merging(["worker": String(index)]) { $1 },
              value: Double(series.value(of: counter, in: counters))))
        }
      }
      samples[.offloadActive] = TunOffloads.named.map {
        .init(labels: ["offload": $0.word], value: offloads.contains($0.offload) ? 1 : 0)
      }
    }
    if let routeTable {
      samples[.routeTableGeneration] = [.init(value: Double(routeTable.generation))]
      samples[.routeTableRoutes] = [.init(value: Double(routeTable.routes))]
    }
    var families = UDPMetricFamily.allCases.map {
      BackendMetric(
        name: $0.name, help: $0.help, kind: $0.isGauge ? .gauge : .counter,
        samples: samples[$0] ?? [])
    }
    for counter in Counter.allCases {
      let perWorker = (dataPlane?.workers ?? []).enumerated().map {
        BackendMetric.Sample(
          labels: ["worker": String($0.offset)], value: Double($0.element[counter]))
      }
      families.append(
        BackendMetric(
          name: counter.metricName, help: counter.metricHelp, kind: .counter, samples: perWorker))
    }
    return families
  }
}
