import BagbotDomain
import Foundation
import Testing

@Suite("Decoding errors read well and quote only an excerpt of the input")
struct ReadableDecodingErrorTests {
    @Test("a 100 KB value for an enum is quoted in at most a few hundred bytes")
    func hugeEnumValue() throws {
        struct Body: Decodable { var side: Side }
        let huge = String(repeating: "x", count: 100_000)
        do {
            _ = try JSONDecoder().decode(Body.self, from: Data(#"{"side":"\#(huge)"}"#.utf8))
            Issue.record("a side of 100 KB was accepted")
        } catch let error as DecodingError {
            let text = error.readableDescription(under: "body")
            #expect(text.utf8.count < 400, "\(text.prefix(120))")
            #expect(text.hasPrefix("at body.side"))
        }
    }
}
