import Foundation
import Testing
@testable import GatewayCore

/// The byte-level readings of every request's path and `Authorization` header must answer exactly as the readings
/// by text they stand in front of, on every spelling: checked on all combinations of awkward pieces.
@Suite("The request path and bearer token read as bytes agree with the readings by text")
struct RequestParsingFastPathTests {
    /// Every sequence of up to `length` pieces.
    private func combinations(of pieces: [String], upTo length: Int) -> [String] {
        var all = [""]
        var layer = [""]
        for _ in 0..<length {
            layer = layer.flatMap { prefix in pieces.map { prefix + $0 } }
            all += layer
        }
        return all
    }

    @Test("canonical path: the same verdict and reason for every path made of /, ., .., %2f, \\, letters and é")
    func paths() {
        let paths = combinations(of: ["/", ".", "..", "a", "%2f", "%2E", "%00", "\\", "é", "api"], upTo: 5)
        #expect(paths.count > 100_000)
        var differing: [String] = []
        for path in paths where CanonicalPathMiddleware.problem(path) != CanonicalPathMiddleware.spelledProblem(path) {
            differing.append(path)
        }
        #expect(differing.isEmpty, "\(differing.prefix(10))")
        #expect(CanonicalPathMiddleware.problem("/api/orders") == nil)
        #expect(CanonicalPathMiddleware.problem("/api//orders") == "an empty segment")
        #expect(CanonicalPathMiddleware.problem("/api/../admin") == "a .. segment")
    }

    @Test("bearer token: the same token or the same refusal for every header made of the scheme's spellings, blanks and a token")
    func bearerTokens() {
        let headers = combinations(of: ["Bearer", "bearer", "BEARER", "Basic", " ", "\t", "\u{00A0}", "bgb_x1", "é"], upTo: 4)
        func outcome(_ read: () throws -> String) -> String {
            do { return "token " + (try read()) } catch let error as APIError { return "refused \(error.code)" } catch { return "\(error)" }
        }
        var differing: [String] = []
        for header in headers
        where outcome({ try BearerAuthMiddleware.bearerToken(header) }) != outcome({ try BearerAuthMiddleware.spelledBearerToken(header) }) {
            differing.append(header)
        }
        #expect(differing.isEmpty, "\(differing.prefix(10).map { $0.debugDescription })")
        #expect(outcome({ try BearerAuthMiddleware.bearerToken("Bearer  bgb_x1\t") }) == "token bgb_x1")
        #expect(outcome({ try BearerAuthMiddleware.bearerToken(nil) }) == "refused token_missing")
    }
}
