import Foundation
import Logging
import GRDB
import BagbotDomain

/// The venues this routerd trades on, built from its configuration. Adding a venue is a folder beside
/// `Paper/` with its `TradingVenue` and settings, its section under `router:`, and one line here.
enum VenueRegistry {
    struct Built {
        var venues: [any TradingVenue]
        /// The paper venue, which the replay feed drives.
        var paper: PaperVenue
    }

    /// `stateDirectory`: where venues keep what must outlive a restart (Binance's ban).
    static func build(_ settings: RouterSettings, database: DatabasePool, stateDirectory: String, logger: Logger) async throws -> Built {
        let paper = try await PaperVenue(database: database, settings: PaperExchange.Settings(settings), rules: settings.paperRules, logger: logger,
                                         statusLagTicks: settings.paper.statusLagTicks)
        var venues: [any TradingVenue] = [paper]
        if settings.binance.enabled {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            // A holding's mark is no older than the prices routerd values the account with (a minute at most).
            let markMaxAge = min(settings.priceAgeLimit ?? .seconds(60), .seconds(60))
            venues.append(try await BinanceVenue.start(settings: settings.binance, credential: try BinanceCredentials.load(settings.binance),
                                                       blockFile: stateDirectory + "/binance-ban.json", markMaxAge: markMaxAge, logger: logger))
        }
        return Built(venues: venues, paper: paper)
    }
}
