import CCrypto

/// An Ed25519 private key held by libcrypto (OpenSSL): read from a PEM file (PKCS #8, as `openssl genpkey
/// -algorithm ed25519` writes it and Binance's key tool exports it) or from its 32 raw bytes, it signs messages
/// (RFC 8032, no pre-hash). The key bytes never leave libcrypto's memory.
public final class Ed25519PrivateKey: @unchecked Sendable {
    // An EVP_PKEY is safe to use from several threads for signing (each signature has its own context).
    private let key: OpaquePointer

    /// `pem`: the text of a PEM private key (unencrypted).
    public init(pem: String) throws(Crypto.Failure) {
        let bytes = Array(pem.utf8)
        guard let bio = bytes.withUnsafeBufferPointer({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
            throw Crypto.Failure(description: "cannot read the key (BIO_new_mem_buf failed)")
        }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            ERR_clear_error()
            throw Crypto.Failure(description: "not a PEM private key (or it is encrypted)")
        }
        guard EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(key)
            throw Crypto.Failure(description: "the PEM key is not an Ed25519 key")
        }
        self.key = key
    }

    /// `raw`: the 32-byte private key (RFC 8032's "secret key").
    public init(raw: [UInt8]) throws(Crypto.Failure) {
        guard raw.count == 32 else { throw Crypto.Failure(description: "an Ed25519 private key is 32 bytes, not \(raw.count)") }
        guard let key = raw.withUnsafeBufferPointer({ EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) }) else {
            ERR_clear_error()
            throw Crypto.Failure(description: "libcrypto refused the Ed25519 key")
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// The 32-byte public key.
    public var publicKey: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        var length = 32
        precondition(EVP_PKEY_get_raw_public_key(key, &bytes, &length) == 1 && length == 32, "Ed25519 public key unavailable")
        return bytes
    }

    /// The 64-byte signature of `message`.
    public func sign(_ message: [UInt8]) throws(Crypto.Failure) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw Crypto.Failure(description: "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1 else {
            ERR_clear_error()
            throw Crypto.Failure(description: "EVP_DigestSignInit(Ed25519) failed")
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        let ok = message.withUnsafeBufferPointer { input in
            EVP_DigestSign(context, &signature, &length, input.baseAddress, input.count)
        }
        guard ok == 1, length == 64 else {
            ERR_clear_error()
            throw Crypto.Failure(description: "Ed25519 signing failed")
        }
        return signature
    }

    /// Whether `signature` is `publicKey`'s signature of `message` (for tests and for checking a configured key).
    public static func verify(signature: [UInt8], of message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard publicKey.count == 32, signature.count == 64,
              let key = publicKey.withUnsafeBufferPointer({ EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) }) else {
            return false
        }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else {
            ERR_clear_error()
            return false
        }
        let result = signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { input in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, input.baseAddress, input.count)
            }
        }
        ERR_clear_error()
        return result == 1
    }
}
