"""Ed25519 signatures of the QQ webhook: verifying callbacks and answering address validation.

The key's 32-byte seed is the bot secret repeated until long enough and cut to 32 bytes. The
platform signs ``X-Signature-Timestamp`` + raw body; the validation answer signs
``event_ts`` + ``plain_token``. Nothing here logs, and the key never appears in a repr.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SEED_SIZE = 32


def seed_of(secret: str) -> bytes:
    raw = secret.encode("utf-8")
    if not raw:
        raise ValueError("the bot secret is empty")
    while len(raw) < SEED_SIZE:
        raw += raw
    return raw[:SEED_SIZE]


class Signer:
    """The bot's Ed25519 key pair, derived from its secret."""

    __slots__ = ("_private", "public")

    def __init__(self, secret: str) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed_of(secret))
        self.public: Ed25519PublicKey = self._private.public_key()

    def __repr__(self) -> str:
        return "Signer(<hidden>)"

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()

    def verify(self, timestamp: str, body: bytes, signature_hex: str) -> bool:
        """Whether ``signature_hex`` signs ``timestamp`` + ``body`` (False on any malformed input)."""
        try:
            signature = bytes.fromhex(signature_hex)
        except ValueError:
            return False
        if len(signature) != 64 or signature[63] & 0xE0:
            return False
        try:
            self.public.verify(signature, timestamp.encode("utf-8") + body)
        except InvalidSignature:
            return False
        return True

    def validation_answer(self, plain_token: str, event_ts: str) -> dict[str, str]:
        """The answer to ``op`` 13: ``{"plain_token", "signature"}``."""
        return {"plain_token": plain_token, "signature": self.sign((event_ts + plain_token).encode("utf-8"))}
