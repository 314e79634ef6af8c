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

    static func build(_ settings: RouterSettings, database: DatabasePool, logger: Logger) async throws -> Built {
        let paper = try await PaperVenue(database: database, settings: PaperExchange.Settings(settings), rules: settings.paperRules, logger: logger,
                                         statusLagTicks: settings.paper.statusLagTicks)
        return Built(venues: [paper], paper: paper)
    }
}
