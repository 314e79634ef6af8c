#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import CoreMetrics
import Prometheus
import BagbotDomain
import BagbotIPC

/// This process's metrics: swift-metrics with swift-prometheus as its backend, every metric labelled with the process
/// (`daemon="routerd"`), handed to the gateway as Prometheus text through `metrics.scrape` for `GET /metrics`
/// (docs/observability.md). Until `bootstrap` runs (unit tests, tools) swift-metrics records nothing.
public enum ProcessMetrics {
    /// Every metric of this process; the process gauges are read into it at each scrape.
    public static let registry = PrometheusCollectorRegistry()

    /// Latency buckets for every swift-metrics `Timer`: from 100 µs (an IPC round trip) to 10 s (a venue timing out).
    public static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]

    private static let state = Mutex<ProcessGauges?>(nil)
    /// Run before each scrape: a daemon's figures that are read rather than counted as they happen (the mindset's
    /// state, its counters). They run one at a time.
    private static let collectors = Mutex<[@Sendable () async -> Void]>([])

    /// Adds a collector (the daemon's init; they run for the life of the process).
    public static func collect(_ collector: @escaping @Sendable () async -> Void) {
        collectors.withLock { $0.append(collector) }
    }

    /// Once per process, before any metric is made (`DaemonRunner` calls it after logging).
    public static func bootstrap(daemon: String) {
        let first = state.withLock { gauges -> Bool in
            guard gauges == nil else { return false }
            gauges = ProcessGauges(daemon: daemon, registry: registry)
            return true
        }
        guard first else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        factory.nameAndLabelSanitizer = { name, labels in (name, [("daemon", daemon)] + labels) }
        MetricsSystem.bootstrap(factory)
    }

    /// The Prometheus text exposition of this process's metrics, its process gauges and collectors read just now.
    public static func exposition() async -> String {
        for collector in collectors.withLock({ $0 }) { await collector() }
        state.withLock { $0?.refresh() }
        return registry.emitToString()
    }

    /// `bagbot_ipc_reconnects_total{peer=…}`: connections to each peer after the first, over the daemon's clients.
    public static func followReconnects(of clients: [IPCClient]) {
        let mirror = CounterMirror()
        collect {
            let byPeer = Dictionary(grouping: clients, by: \.peerService)
            for (peer, clients) in byPeer {
                mirror.follow("bagbot_ipc_reconnects_total", [("peer", peer)], total: clients.reduce(0) { $0 + max(0, $1.connections - 1) })
            }
        }
    }

    /// `bagbot_daemon_up{daemon=…}`: whether a process answered the gateway's scrape (the gateway sets one per process).
    public static func recordUp(daemon: String, isUp: Bool) {
        registry.makeGauge(name: "bagbot_daemon_up", labels: [("daemon", daemon)]).set(isUp ? 1.0 : 0.0)
    }

    /// `metrics.scrape` on a daemon's IPC server.
    public static func register(on server: IPCMethodRegistry) {
        server.register(Methods.metricsScrape, EmptyBody.self) { _, _ in
            MetricsExposition(text: await exposition())
        }
    }
}

/// What `metrics.scrape` answers: a process's metrics in the Prometheus text format (version 0.0.4).
public struct MetricsExposition: Codable, Sendable {
    public var text: String

    public init(text: String) {
        self.text = text
    }
}

/// The process facts Prometheus's client libraries export under these names (`process_*`), read from `/proc/self`.
private struct ProcessGauges {
    let residentMemory: Prometheus.Gauge
    let openDescriptors: Prometheus.Gauge
    let maximumDescriptors: Prometheus.Gauge
    let startTime: Prometheus.Gauge
    let cpuSeconds: Prometheus.Counter
    var cpuSecondsCounted = 0.0

    init(daemon: String, registry: PrometheusCollectorRegistry) {
        let labels = [("daemon", daemon)]
        residentMemory = registry.makeGauge(name: "process_resident_memory_bytes", labels: labels)
        openDescriptors = registry.makeGauge(name: "process_open_fds", labels: labels)
        maximumDescriptors = registry.makeGauge(name: "process_max_fds", labels: labels)
        startTime = registry.makeGauge(name: "process_start_time_seconds", labels: labels)
        cpuSeconds = registry.makeCounter(name: "process_cpu_seconds_total", labels: labels)
        startTime.set(Date().timeIntervalSince1970)
    }

    mutating func refresh() {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
           let resident = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) {
            residentMemory.set(resident * pageSize)
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // The listing's own descriptor is among them.
            openDescriptors.set(Double(max(0, entries.count - 1)))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            maximumDescriptors.set(Double(limit.rlim_cur))
        }
        // utime and stime, fields 14 and 15 of /proc/self/stat, counted after the command's closing parenthesis.
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                let seconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
                if seconds > cpuSecondsCounted {
                    cpuSeconds.increment(by: seconds - cpuSecondsCounted)
                    cpuSecondsCounted = seconds
                }
            }
        }
    }
}
