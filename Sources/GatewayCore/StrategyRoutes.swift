import Foundation
import Hummingbird
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// `/api/strategy`: arsenald's strategy registry. Every tier reads; changing anything needs a tier that may write
/// (`ReadOnlyTierMiddleware`: 403 `tier_read_only` for Free).
enum StrategyRoutes {
    /// `arsenal.performance` reads routerd's whole fill log, page by page.
    static let performanceTimeout: Duration = .seconds(30)

    struct NoFields: Codable {}

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let arsenal = environment.daemons.arsenal

        router.get("/api/strategy") { _, _ in
            let response: StrategiesResponse = try await DaemonCall.ask("arsenald") { try await arsenal.call(Methods.arsenalStrategies, EmptyBody()) }
            return try JSONResponse.make(response)
        }
        table.note("/api/strategy", .get)

        router.get("/api/strategy/:id") { _, context in
            let id = try checkedId(context)
            let info: StrategyInfo = try await DaemonCall.ask("arsenald") { try await arsenal.call(Methods.arsenalStrategy, StrategyIdRequest(id: id)) }
            return try JSONResponse.make(info)
        }
        table.note("/api/strategy/{id}", .get)

        for (action, method) in [("enable", Methods.arsenalEnable), ("disable", Methods.arsenalDisable)] {
            router.post(RouterPath("/api/strategy/:id/\(action)")) { request, context in
                let identity = try context.requireIdentity()
                let id = try checkedId(context)
                _ = try await JSONBody.decode(NoFields.self, from: request, context: context, fields: [], emptyIsAllowed: true)
                let info: StrategyInfo = try await DaemonCall.ask("arsenald") { try await arsenal.call(method, StrategyIdRequest(id: id)) }
                context.logger.notice("strategy \(action)d", metadata: ["strategy": "\(id)", "by": "\(identity.token.prefix)"])
                return try JSONResponse.make(info)
            }
            table.note("/api/strategy/{id}/\(action)", .post)
        }

        router.put("/api/strategy/:id/parameters") { request, context in
            let identity = try context.requireIdentity()
            let id = try checkedId(context)
            let parameters = try await parameterBody(request, context: context)
            let info: StrategyInfo = try await DaemonCall.ask("arsenald") {
                try await arsenal.call(Methods.arsenalSetParameters, SetStrategyParametersRequest(id: id, parameters: parameters))
            }
            context.logger.notice("strategy parameters set", metadata: [
                "strategy": "\(id)", "parameters": "\(parameters.keys.sorted().joined(separator: ","))",
                "by": "\(identity.token.prefix)",
            ])
            return try JSONResponse.make(info)
        }
        table.note("/api/strategy/{id}/parameters", .put)

        router.get("/api/strategy/:id/performance") { _, context in
            let id = try checkedId(context)
            // An unknown strategy is 404, not an empty report: arsenald's performance counts any id's fills.
            let _: StrategyInfo = try await DaemonCall.ask("arsenald") { try await arsenal.call(Methods.arsenalStrategy, StrategyIdRequest(id: id)) }
            let report: PerformanceResponse = try await DaemonCall.ask("arsenald") {
                try await arsenal.call(Methods.arsenalPerformance, PerformanceQuery(strategyId: id), timeout: performanceTimeout)
            }
            return try JSONResponse.make(report)
        }
        table.note("/api/strategy/{id}/performance", .get)
    }

    /// Strategy ids are snake_case names: 1–64 letters, digits and `_ . -`.
    static func checkedId(_ context: GatewayContext) throws -> String {
        let id = try context.parameters.require("id")
        guard (1...64).contains(id.utf8.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
            throw APIError.badRequest("a strategy id is 1–64 letters, digits and _ . -")
        }
        return id
    }

    /// `PUT …/parameters`: a JSON object of parameter name → value, handed to arsenald as it is (it checks names,
    /// types, bounds and consistency, all or none).
    static func parameterBody(_ request: Request, context: GatewayContext) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(buffer.readableBytesView)
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any],
              let parameters = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
            throw APIError(.badRequest, "bad_json", "the body must be a JSON object of parameter name → value, such as {\"entry_z\": 2.5}")
        }
        guard !parameters.isEmpty else { throw APIError.unprocessable("name at least one parameter") }
        return parameters
    }
}
