import Foundation

/// The one configuration file every daemon reads (`bagbot.yaml`). Every key has a default, so a file
/// names only what it changes; keys are snake_case in the file.
///
/// The runtime owns the sections every daemon needs (`paths`, `ipc`, `log`); each daemon's library owns
/// its own (`MindsetSettings`, `ArsenalSettings`, `RouterSettings`, `GatewaySettings`) and registers it with
/// the loader. A process holds only the sections it registered: `config[RouterSettings.self]`.
public struct BagbotConfig: Sendable, Equatable {
    public var paths = Paths()
    public var ipc = IPC()
    public var log = Log()
    private var sections: [String: any ConfigSection] = [:]

    /// The defaults, with `sections` at their defaults too.
    public init(sections: [any ConfigSection.Type] = []) {
        for type in sections { self.sections[type.key] = type.init() }
    }

    /// The sections every process registers.
    static let builtIn: [any ConfigSection.Type] = [Paths.self, IPC.self, Log.self]

    /// Every daemon's section key and the daemon that checks it. A process refuses a top-level key that
    /// is in neither this list nor its own sections; another daemon's section is left to that daemon, which
    /// refuses its unknown keys when it starts (`bagbot check-config` checks them all at once).
    public static let sectionOwners: [String: String] = [
        "gateway": "gateway", "mindset": "mindsetd", "arsenal": "arsenald", "router": "routerd",
    ]

    /// A registered section. Reading one that was not registered is a programming error, caught by the
    /// first test that starts the daemon.
    public subscript<Section: ConfigSection>(_ type: Section.Type) -> Section {
        get {
            guard let section = sections[Section.key] as? Section else {
                preconditionFailure("config section '\(Section.key)' was not registered with the loader")
            }
            return section
        }
        set { sections[Section.key] = newValue }
    }

    mutating func set(_ section: any ConfigSection) {
        switch section {
        case let paths as Paths: self.paths = paths
        case let ipc as IPC: self.ipc = ipc
        case let log as Log: self.log = log
        default: sections[type(of: section).key] = section
        }
    }

    public static func == (lhs: BagbotConfig, rhs: BagbotConfig) -> Bool {
        lhs.paths == rhs.paths && lhs.ipc == rhs.ipc && lhs.log == rhs.log
            && lhs.sections.keys.sorted() == rhs.sections.keys.sorted()
            && lhs.sections.allSatisfy { key, value in rhs.sections[key].map(value.isEqual(to:)) ?? false }
    }

    public struct Paths: ConfigSection {
        public static let key = "paths"
        /// Sockets live here (`/run/bagbot` under systemd).
        public var runDir = "/run/bagbot"
        /// `bagbot.db` and `state/*.json` live here (`/var/lib/bagbot` under systemd).
        public var stateDir = "/var/lib/bagbot"

        public init() {}

        public var databasePath: String { stateDir + "/bagbot.db" }
        public var stateFilesDir: String { stateDir + "/state" }
        public func socket(for service: String) -> String { runDir + "/\(service).sock" }

        public func validate(_ check: ConfigCheck) throws {
            guard runDir.hasPrefix("/") else { throw check.fail("run_dir", "must be an absolute path") }
            guard stateDir.hasPrefix("/") else { throw check.fail("state_dir", "must be an absolute path") }
        }
    }

    public struct IPC: ConfigSection {
        public static let key = "ipc"
        public var maxFrameBytes = 1 << 20
        /// Group allowed to connect besides root and the daemon's own user; empty for none.
        public var socketGroup = ""
        /// Octal permission bits, as a string so YAML does not read them as decimal.
        public var socketMode = "0660"
        public var requestTimeoutMs = 2_000
        /// How long a client's event loop polls for a reply before sleeping; 0 turns polling off.
        public var replyBusyPollUs = 200
        public var tickQueueCapacity = 1_024
        public var reliableQueueCapacity = 16_384
        /// Servers close a connection that has not completed hello this long after connecting.
        public var helloTimeoutMs = 5_000
        /// Servers close a connection whose started frame is not complete this long after its first bytes.
        public var frameTimeoutMs = 10_000

        public init() {}

        public func validate(_ check: ConfigCheck) throws {
            guard (1_024...(64 << 20)).contains(maxFrameBytes) else {
                throw check.fail("max_frame_bytes", "must be between 1024 and 67108864")
            }
            guard socketMode.count >= 3, let mode = Int(socketMode, radix: 8), (0...0o777).contains(mode) else {
                throw check.fail("socket_mode", "must be octal permission bits such as \"0660\"")
            }
            guard requestTimeoutMs > 0 else { throw check.fail("request_timeout_ms", "must be positive") }
            guard (0...10_000).contains(replyBusyPollUs) else {
                throw check.fail("reply_busy_poll_us", "must be between 0 (off) and 10000")
            }
            guard tickQueueCapacity > 0 else { throw check.fail("tick_queue_capacity", "must be positive") }
            guard reliableQueueCapacity > 0 else { throw check.fail("reliable_queue_capacity", "must be positive") }
            guard (100...600_000).contains(helloTimeoutMs) else { throw check.fail("hello_timeout_ms", "must be between 100 and 600000") }
            guard (100...600_000).contains(frameTimeoutMs) else { throw check.fail("frame_timeout_ms", "must be between 100 and 600000") }
        }
    }

    public struct Log: ConfigSection {
        public static let key = "log"
        /// trace, debug, info, notice, warning, error, critical
        public var level = "info"
        /// auto (journald prefixes when started by systemd), journal, or plain
        public var format = "auto"

        public init() {}

        public func validate(_ check: ConfigCheck) throws {
            guard LogSetup.level(named: level) != nil else {
                throw check.fail("level", "must be one of trace, debug, info, notice, warning, error, critical")
            }
            guard ["auto", "journal", "plain"].contains(format) else {
                throw check.fail("format", "must be auto, journal or plain")
            }
        }
    }
}
