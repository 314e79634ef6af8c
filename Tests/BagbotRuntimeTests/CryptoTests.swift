import Foundation
import BagbotTestSupport
import Testing
@testable import BagbotRuntime

@Suite("Crypto")
struct CryptoTests {
    @Test("SHA-256 known answers (FIPS 180-2)")
    func sha256() {
        #expect(Crypto.hex(Crypto.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Crypto.hex(Crypto.sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Crypto.hex(Crypto.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Crypto.sha256([UInt8](repeating: 0x61, count: 1_000_000))
                == bytes(hex: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"))
    }

    @Test("HMAC-SHA256 known answers (RFC 4231 test cases 1, 2 and 6)")
    func hmac() {
        #expect(Crypto.hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Crypto.hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Crypto.hex(Crypto.hmacSHA256(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("HMAC with an empty key and message still works")
    func hmacEmpty() {
        #expect(Crypto.hex(Crypto.hmacSHA256(key: [], message: []))
                == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test("constant-time comparison")
    func constantTimeEqual() {
        #expect(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Crypto.constantTimeEqual([0, 2, 3], [1, 2, 3]))
        #expect(!Crypto.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(!Crypto.constantTimeEqual([], [0]))
        #expect(Crypto.constantTimeEqual([], []))
    }

    @Test("random bytes have the requested length and differ between calls")
    func randomBytes() throws {
        #expect(try Crypto.randomBytes(32).count == 32)
        #expect(try Crypto.randomBytes(0).isEmpty)
        #expect(try Crypto.randomBytes(1_000).count == 1_000)
        #expect(try Crypto.randomBytes(32) != Crypto.randomBytes(32))
    }

    @Test("hex and base64url encodings")
    func encodings() {
        #expect(Crypto.hex([0x00, 0x0f, 0xf0, 0xff]) == "000ff0ff")
        #expect(Crypto.base64URL([0xfb, 0xff, 0xfe]) == "-__-")
        #expect(Crypto.base64URL(Array("a".utf8)) == "YQ")
    }
}
