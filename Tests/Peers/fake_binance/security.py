"""Request security (rest-api.md "Request Security", web-socket-api.md "Request security"): API key, signature, timing."""
import base64
import binascii
import hashlib
import hmac
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from . import errors
from .util import parse_timestamp_ms, to_param_text

# rest-api.md "HMAC Keys": the documented example key pair, the defaults when none is given.
DOC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


class Keys:
    """The one account's API key: verified as HMAC-SHA256 (hex) and/or Ed25519 (base64) signatures."""

    def __init__(self, api_key, hmac_secret=None, ed25519_pem_path=None):
        self.api_key = api_key
        self.hmac_secret = hmac_secret.encode() if hmac_secret else None
        self.ed25519 = None
        if ed25519_pem_path:
            with open(ed25519_pem_path, "rb") as f:
                key = load_pem_public_key(f.read())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError(f"{ed25519_pem_path} is not an Ed25519 public key")
            self.ed25519 = key

    def check_api_key(self, key):
        """-2014 for a missing or malformed key, -2015 for one the fake does not know (errors.md)."""
        if key == self.api_key:
            return
        if not key or not re.fullmatch(r"[A-Za-z0-9]{1,128}", key):
            raise errors.bad_api_key_format()
        raise errors.rejected_api_key()

    def verify(self, payload, signature):
        """HMAC signatures are hex and not case-sensitive; Ed25519 ones are base64 (rest-api.md "Signature Case Sensitivity")."""
        if self.hmac_secret is not None and re.fullmatch(r"[0-9a-fA-F]{64}", signature):
            expected = hmac.new(self.hmac_secret, payload, hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature.lower())
        return self.verify_ed25519(payload, signature)

    def verify_ed25519(self, payload, signature):
        if self.ed25519 is None:
            return False
        try:
            self.ed25519.verify(base64.b64decode(signature, validate=True), payload)
            return True
        except (InvalidSignature, binascii.Error, ValueError):
            return False


def strip_signature(raw):
    """A query string or form body as sent, without its `signature=...` pair."""
    if not raw:
        return ""
    return "&".join(part for part in raw.split("&") if not part.startswith("signature="))


def rest_payload(raw_query, raw_body):
    """rest-api.md "SIGNED Endpoint Examples": the query string concatenated without separator to the body, percent-encoded
    as sent (since 2026-01-15 a signature over the unencoded text is refused with -1022, CHANGELOG 2025-12-17)."""
    return (strip_signature(raw_query) + strip_signature(raw_body)).encode("utf-8")


def ws_payload(params):
    """web-socket-api.md "SIGNED request example": every param but `signature`, sorted by name, `name=value` joined by
    `&`, values in UTF-8 and not percent-encoded."""
    return "&".join(f"{k}={to_param_text(v)}" for k, v in sorted(params.items()) if k != "signature").encode("utf-8")


def check_timing(timestamp_text, recv_window, server_ms):
    """rest-api.md "Timing security": accept when timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow."""
    timestamp = parse_timestamp_ms(timestamp_text)
    if timestamp >= server_ms + 1000:
        raise errors.ahead_of_server()
    if server_ms - timestamp > recv_window:
        raise errors.outside_recv_window()
