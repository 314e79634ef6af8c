import Foundation
import BagbotIPC

extension IPCServerConfiguration {
    /// The server settings for `service` from the shared configuration file.
    public static func from(_ config: BagbotConfig, service: String) -> IPCServerConfiguration {
        IPCServerConfiguration(
            socketPath: config.paths.socket(for: service),
            maximumFrameBytes: config.ipc.maxFrameBytes,
            socketMode: mode_t(Int(config.ipc.socketMode, radix: 8) ?? 0o660),
            socketGroup: config.ipc.socketGroup.isEmpty ? nil : config.ipc.socketGroup,
            subscriberLimits: SubscriberLimits(
                droppableCapacity: config.ipc.tickQueueCapacity, reliableCapacity: config.ipc.reliableQueueCapacity),
            helloTimeout: .milliseconds(config.ipc.helloTimeoutMs),
            frameTimeout: .milliseconds(config.ipc.frameTimeoutMs))
    }
}

extension IPCClientConfiguration {
    public static func from(_ config: BagbotConfig, peer: String) -> IPCClientConfiguration {
        IPCClientConfiguration(
            socketPath: config.paths.socket(for: peer),
            maximumFrameBytes: config.ipc.maxFrameBytes,
            requestTimeout: .milliseconds(config.ipc.requestTimeoutMs),
            replyBusyPoll: .microseconds(config.ipc.replyBusyPollUs))
    }
}
