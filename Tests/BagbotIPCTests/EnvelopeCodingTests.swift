import Foundation
import NIOCore
import BagbotDomain
import Testing
@testable import BagbotIPC

/// The envelope writer (fields by hand, body through JSONEncoder) and reader (a scanner for the plain
/// shape, JSONDecoder for anything else) must agree with JSONDecoder on every frame.
@Suite("Envelope encoding and scanning")
struct EnvelopeCodingTests {
    struct Nested: Codable, Equatable, Sendable {
        var text: String
        var list: [Int]
        var when: Date
        var inner: [String: String]
    }

    private func encode<Body: Encodable>(id: UInt64?, type: IPCMessageType = .request, method: String?, body: Body) throws -> ByteBuffer {
        try IPCCoding.encode(
            OutgoingEnvelope(id: id, type: type, method: method, body: body),
            allocator: ByteBufferAllocator(), encoder: IPCCoding.makeEncoder())
    }

    private func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
        return try #require(object as? [String: Any])
    }

    private func scan(_ text: String) -> EnvelopeScanner.Result? {
        ByteBuffer(string: text).withUnsafeReadableBytes { EnvelopeScanner.scan($0) }
    }

    private func header(_ text: String) throws -> EnvelopeHeader {
        try IPCCoding.makeDecoder().decode(EnvelopeHeader.self, from: ByteBuffer(string: text))
    }

    @Test("written envelopes are valid JSON with the right fields, and read back through both readers")
    func roundTrip() throws {
        let awkwardMethods: [String?] = [nil, "mindset.evaluate", #"quote"and\back"#, "line\nbreak\ttab", "ctl\u{01}\u{1f}", "ünïcödé/slash", ""]
        let ids: [UInt64?] = [nil, 0, 1, 42, UInt64.max]
        let body = Nested(
            text: #"}{"][\ "#, list: [1, -2, 3], when: Date(timeIntervalSince1970: 1_700_000_000.25),
            inner: ["a": "{", "b": "\\\""])
        for method in awkwardMethods {
            for id in ids {
                let frame = try encode(id: id, method: method, body: body)
                // valid JSON for an independent parser, with exactly the keys that have values
                let object = try json(frame)
                #expect(Set(object.keys) == Set(["v", "type", "body"] + (id == nil ? [] : ["id"]) + (method == nil ? [] : ["method"])))
                #expect(object["type"] as? String == "request")
                #expect(object["method"] as? String == method)

                let incoming = try IncomingFrame(frame: frame, decoder: IPCCoding.makeDecoder())
                #expect(incoming.header.id == id)
                #expect(incoming.header.method == method)
                #expect(incoming.header.type == .request)
                #expect(try incoming.decodeBody(Nested.self, decoder: IPCCoding.makeDecoder()) == body)
                // the slow path reads the same
                let slow = try IPCCoding.makeDecoder().decode(EnvelopeHeader.self, from: frame)
                #expect(slow.id == id && slow.method == method && slow.v == 1)
            }
        }
    }

    @Test("bodies that encode nothing, fragments and arrays keep their nested form")
    func bodyShapes() throws {
        let empty = try encode(id: 1, type: .response, method: "m", body: EmptyBody())
        #expect(String(buffer: empty).hasSuffix(#","body":{}}"#))
        let fragment = try encode(id: 2, type: .response, method: "m", body: "just a string")
        #expect(try IncomingFrame(frame: fragment, decoder: IPCCoding.makeDecoder())
            .decodeBody(String.self, decoder: IPCCoding.makeDecoder()) == "just a string")
        let array = try encode(id: 3, type: .event, method: "m", body: [1.5, 2.5])
        #expect(try IPCCoding.decodeBody([Double].self, from: array, decoder: IPCCoding.makeDecoder()) == [1.5, 2.5])
        let error = try encode(id: nil, type: .error, method: nil, body: IPCError(.forbidden, "no"))
        #expect(String(buffer: error).hasPrefix(#"{"v":1,"type":"error","body":{"#))
        #expect(try IPCCoding.decodeBody(IPCError.self, from: error, decoder: IPCCoding.makeDecoder()) == IPCError(.forbidden, "no"))
    }

    @Test("the scanner reads plain envelopes in any key order and spacing, exactly as JSONDecoder does")
    func scannerAgreesWithJSONDecoder() throws {
        let frames = [
            #"{"v":1,"id":7,"type":"request","method":"a.b","body":{"x":1}}"#,
            #"{"body":{"x":1},"method":"a.b","type":"response","id":7,"v":1}"#,
            " \n{ \"v\" : 1 ,\t\"id\":0, \"type\" :\"event\" , \"method\":\"t\", \"body\" : [ ] } \r\n",
            #"{"v":1,"type":"error","body":{"code":"x","message":"y"}}"#,
            #"{"v":1,"id":null,"type":"request","method":null,"body":null}"#,
            #"{"v":1,"id":18446744073709551615,"type":"request","method":"m"}"#,
            #"{"v":-3,"type":"request","method":"m","body":"s"}"#,
            #"{"v":2,"type":"request","method":"hello","body":{}}"#,
        ]
        for text in frames {
            let fast = try #require(scan(text), "scanner declined \(text)")
            let slow = try header(text)
            #expect(fast.v == slow.v)
            #expect(fast.id == slow.id)
            #expect(fast.type == slow.type)
            #expect(fast.method == slow.method)
        }
        #expect({ if case .null = scan(frames[4])!.body { return true } else { return false } }())
        #expect({ if case .absent = scan(frames[5])!.body { return true } else { return false } }())
    }

    @Test("the scanner declines anything unusual, which JSONDecoder then reads or refuses", arguments: [
        #"{"v":1,"type":"request","method":"te\u0073t","body":{}}"#,          // escape in a string
        #"{"v":1,"type":"request","method":"m","extra":true,"body":{}}"#,      // unknown key
        #"{"v":1,"id":-1,"type":"request","method":"m"}"#,                     // negative id
        #"{"v":1,"id":01,"type":"request","method":"m"}"#,                     // leading zero
        #"{"v":1,"id":18446744073709551616,"type":"request","method":"m"}"#,   // id overflow
        #"{"v":1,"type":"gossip","method":"m"}"#,                               // unknown type
        #"{"type":"request","method":"m"}"#,                                    // no v
        #"{"v":1,"method":"m"}"#,                                               // no type
        #"{"v":1,"type":"request","method":"m","body":{"a":1}} x"#,             // trailing bytes
        #"{"v":1,"type":"request","method":"m","body":{"a":"}"#,                // unterminated body
        #"{"v":1,"type":"request","method":"ünï"}"#,                            // non-ASCII string
        #"{}"#, "[]", "", "nul",
    ])
    func scannerDeclines(text: String) throws {
        #expect(scan(text) == nil)
        // IncomingFrame falls back to JSONDecoder: same header as JSONDecoder, or JSONDecoder's error
        let viaFrame = Result { try IncomingFrame(frame: ByteBuffer(string: text), decoder: IPCCoding.makeDecoder()).header }
        let viaDecoder = Result { try header(text) }
        switch (viaFrame, viaDecoder) {
        case (.success(let a), .success(let b)):
            #expect(a.v == b.v && a.id == b.id && a.type == b.type && a.method == b.method)
        case (.failure(let error), .failure):
            // the envelope check's own refusal (an id out of range) or JSONDecoder's error
            #expect(error is DecodingError || (error as? IPCError)?.code == .badRequest)
        default:
            Issue.record("IncomingFrame and JSONDecoder disagree on \(text)")
        }
    }

    @Test("frames JSONDecoder would read against the IPC's rules are refused with bad_request", arguments: [
        #"{"v":1,"v":1,"type":"request","method":"m"}"#,                       // duplicate key
        #"{"v":1,"\u0076":2,"type":"request","method":"m"}"#,                 // the same key, escaped
        #"{"v":1.0,"type":"request","method":"m"}"#,                           // fraction
        #"{"v":1e0,"type":"request","method":"m"}"#,                           // exponent
        #"{"v":1,"id":1e-999,"type":"request","method":"m"}"#,                 // id that rounds to 0
        #"{"v":1,"id":7.0,"type":"request","method":"m"}"#,                    // id with a fraction
        #"{"v":1,"type":"request","method":"m",}"#,                            // trailing comma
    ])
    func refusedAgainstJSONDecoder(text: String) throws {
        #expect(scan(text) == nil)
        #expect(throws: IPCError.self) {
            _ = try IncomingFrame(frame: ByteBuffer(string: text), decoder: IPCCoding.makeDecoder())
        }
        do {
            _ = try IncomingFrame(frame: ByteBuffer(string: text), decoder: IPCCoding.makeDecoder())
        } catch let error as IPCError {
            #expect(error.code == .badRequest)
            #expect(error.message.hasPrefix("malformed envelope: "))
        }
    }

    @Test("a body's brackets and quotes inside strings do not confuse the scanner")
    func bodyDelimiting() throws {
        struct Tricky: Decodable, Equatable {
            var s: String
            var a: [Tricky2]
        }
        struct Tricky2: Decodable, Equatable {
            var b: String
        }
        let text = #"{"v":1,"type":"event","method":"m","body":{"s":"}{\"]\\","a":[{"b":"]"},{"b":"{{"}]}}"#
        let result = try #require(scan(text))
        guard case .range(let offset, let length) = result.body else {
            Issue.record("no body range")
            return
        }
        let bodyText = String(text.utf8.dropFirst(offset).prefix(length))!
        #expect(bodyText == #"{"s":"}{\"]\\","a":[{"b":"]"},{"b":"{{"}]}"#)
        let body = try IPCCoding.decodeBody(Tricky.self, from: ByteBuffer(string: text), decoder: IPCCoding.makeDecoder())
        #expect(body == Tricky(s: #"}{"]\"#, a: [Tricky2(b: "]"), Tricky2(b: "{{")]))
    }

    @Test("body errors name the path under body, on the fast path and the fallback alike")
    func bodyErrorMessages() throws {
        let fast = #"{"v":1,"id":1,"type":"request","method":"m","body":{"value":"seven"}}"#
        let slow = #"{"v":1,"id":1,"type":"request","method":"m","extra":0,"body":{"value":"seven"}}"#
        for text in [fast, slow] {
            #expect(throws: IPCError(.badRequest, "invalid body: at body.value: expected Int")) {
                _ = try IPCCoding.decodeBody(EchoRequest.self, from: ByteBuffer(string: text), decoder: IPCCoding.makeDecoder())
            }
        }
        let missing = #"{"v":1,"id":1,"type":"request","method":"m","body":{}}"#
        #expect(throws: IPCError(.badRequest, "invalid body: missing key body.value")) {
            _ = try IPCCoding.decodeBody(EchoRequest.self, from: ByteBuffer(string: missing), decoder: IPCCoding.makeDecoder())
        }
        let absent = #"{"v":1,"id":1,"type":"request","method":"m"}"#
        #expect(throws: IPCError(.badRequest, "missing body")) {
            _ = try IPCCoding.decodeBody(EchoRequest.self, from: ByteBuffer(string: absent), decoder: IPCCoding.makeDecoder())
        }
        #expect(try IPCCoding.decodeBody(EmptyBody.self, from: ByteBuffer(string: absent), decoder: IPCCoding.makeDecoder()) == EmptyBody())
        let garbageBody = #"{"v":1,"id":1,"type":"request","method":"m","body":nonsense}"#
        #expect(throws: IPCError.self) {
            _ = try IPCCoding.decodeBody(EmptyBody.self, from: ByteBuffer(string: garbageBody), decoder: IPCCoding.makeDecoder())
        }
    }

    @Test("generated envelopes: the scanner and JSONDecoder agree on every one")
    func generatedEnvelopes() throws {
        var generator = SplitMix64(seed: 0xBA6B07)
        let spaces = ["", " ", "\n", "\t ", "\r\n  "]
        let bodies = [#"{"value":1}"#, "[]", "{}", #""text""#, "12.5e3", "true", "null", #"{"a":{"b":[1,{"c":"}"}]}}"#]
        var declined = 0
        for _ in 0..<2_000 {
            var fields: [String] = []
            let id: UInt64? = generator.next() % 3 == 0 ? nil : generator.next() >> UInt64(generator.next() % 64)
            let method: String? = generator.next() % 4 == 0 ? nil : ["a", "mindset.evaluate", "x.y-z_1"][Int(generator.next() % 3)]
            let type = ["request", "response", "error", "event"][Int(generator.next() % 4)]
            func space() -> String { spaces[Int(generator.next() % UInt64(spaces.count))] }
            fields.append(#""v"\#(space()):\#(space())1"#)
            if let id { fields.append(#""id":\#(space())\#(id)"#) } else if generator.next() % 2 == 0 { fields.append(#""id":null"#) }
            fields.append(#""type":\#(space())"\#(type)""#)
            if let method { fields.append(#""method":"\#(method)""#) }
            if generator.next() % 5 != 0 { fields.append(#""body":\#(space())\#(bodies[Int(generator.next() % UInt64(bodies.count))])"#) }
            fields.shuffle(using: &generator)
            let text = space() + "{" + fields.joined(separator: space() + "," + space()) + space() + "}" + space()
            guard let fast = scan(text) else {
                declined += 1
                continue
            }
            let slow = try header(text)
            #expect(fast.v == slow.v && fast.id == slow.id && fast.type == slow.type && fast.method == slow.method, "\(text)")
        }
        #expect(declined == 0)
    }
}

