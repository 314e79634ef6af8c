import Foundation
import BagbotDomain
import Logging
import Testing
@testable import BagbotRuntime

@Suite("The last log lines kept in memory")
struct RecentLogsTests {
    private func line(_ n: Int, _ level: String = "info", _ component: String = "routerd.router", _ metadata: [String: String] = [:]) -> LogLine {
        LogLine(time: Date(timeIntervalSince1970: Double(n)), level: level, component: component, message: "line \(n)", metadata: metadata)
    }

    @Test("newest first; the oldest go once the ring is full; a limit takes the newest")
    func ring() {
        let logs = RecentLogs(capacity: 3)
        #expect(logs.lines(LogQuery()).isEmpty)
        for n in 1...5 { logs.append(line(n)) }
        #expect(logs.lines(LogQuery()).map(\.message) == ["line 5", "line 4", "line 3"])
        #expect(logs.lines(LogQuery(limit: 2)).map(\.message) == ["line 5", "line 4"])
        #expect(logs.lines(LogQuery(limit: 0)).isEmpty)
    }

    @Test("level and more severe; a component and those under it; since; a request id under any of its keys")
    func filters() {
        let logs = RecentLogs(capacity: 10)
        logs.append(line(1, "debug"))
        logs.append(line(2, "warning", "routerd"))
        logs.append(line(3, "critical", "routerdx"))
        logs.append(line(4, "info", "gateway.http", ["hb.request.id": "abc"]))
        logs.append(line(5, "notice", "arsenald", ["request_id": "abc"]))
        #expect(logs.lines(LogQuery(level: "warning")).map(\.message) == ["line 3", "line 2"])
        #expect(logs.lines(LogQuery(component: "routerd")).map(\.message) == ["line 2", "line 1"], "routerdx is another component")
        #expect(logs.lines(LogQuery(since: Date(timeIntervalSince1970: 4))).map(\.message) == ["line 5", "line 4"])
        #expect(logs.lines(LogQuery(requestId: "abc")).map(\.message) == ["line 5", "line 4"])
        #expect(logs.lines(LogQuery(level: "notice", requestId: "abc")).map(\.message) == ["line 5"])
    }

    @Test("a line written while a task works on a trade carries its request id; the line's own metadata wins")
    func requestIdOfTheTask() async {
        let component = "tests.rid.\(UInt32.random(in: 0...UInt32.max))"
        let logger = Logger(label: component) { label in
            BagbotLogHandler(label: label, format: .plain, logLevel: .info, metadataProvider: LogSetup.requestIdProvider)
        }
        logger.info("outside any trade")
        await RequestId.$current.withValue("k3x9-41") {
            await Task.yield()
            logger.info("on the trade's path")
            logger.info("about another trade", metadata: ["request_id": "other-1"])
        }
        let lines = RecentLogs.shared.lines(LogQuery(component: component)).reversed().map { ($0.message, $0.metadata["request_id"]) }
        #expect(lines.map(\.0) == ["outside any trade", "on the trade's path", "about another trade"])
        #expect(lines.map(\.1) == [nil, "k3x9-41", "other-1"])
    }
}
