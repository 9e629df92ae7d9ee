"""WeCom's callback crypto (the scheme of WeCom's ``WXBizMsgCrypt``), on ``cryptography``.

* signature: SHA-1 hex of the sorted, concatenated ``token``, ``timestamp``, ``nonce`` and
  ciphertext (base64 text);
* key: base64 of ``encoding_aes_key + "="`` (32 bytes, AES-256); IV: the key's first 16 bytes;
* AES-CBC, PKCS#7 padded to a multiple of **32** (not the cipher's 16);
* plaintext: 16 random bytes + 4-byte big-endian length + message + receiver id (the corp id).

:meth:`Crypto.open` checks the signature (in constant time) before it decrypts anything, and
the receiver id after; every failure is one :class:`Refused` whose text names no secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class Refused(Exception):
    """A callback that is not from WeCom for this corp (or is damaged): answer 4xx, parse nothing."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypted))).encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character ``EncodingAESKey``."""
    if len(encoding_aes_key) != 43:
        raise ValueError("an EncodingAESKey has 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("an EncodingAESKey is base64 text (A-Z, a-z, 0-9, + and /)") from None
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


def pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def unpad(data: bytes) -> bytes:
    if not data:
        raise Refused("empty plaintext")
    n = data[-1]
    if not 1 <= n <= BLOCK or n > len(data) or data[-n:] != bytes([n]) * n:
        raise Refused("bad padding")
    return data[:-n]


class Crypto:
    """Seal and open messages for one corp; holds the token and key, prints neither."""

    def __init__(self, token: str, encoding_aes_key: str, receiver_id: str) -> None:
        self._token = token
        self._key = aes_key(encoding_aes_key)
        self.receiver_id = receiver_id

    def __repr__(self) -> str:
        return f"Crypto(receiver_id={self.receiver_id!r})"

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self._token, timestamp, nonce, encrypted)

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        """The base64 ciphertext of ``message`` as WeCom builds it."""
        prefix = random16 if random16 is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("the random prefix is 16 bytes")
        plain = prefix + struct.pack(">I", len(message)) + message + self.receiver_id.encode("utf-8")
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(pad(plain)) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside ``encrypted``; :class:`Refused` unless it is well formed for this corp."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise Refused("ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise Refused("ciphertext is truncated")
        dec = self._cipher().decryptor()
        plain = unpad(dec.update(raw) + dec.finalize())
        if len(plain) < 20:
            raise Refused("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise Refused("length field beyond the plaintext")
        receiver = plain[20 + length :]
        if not hmac.compare_digest(receiver, self.receiver_id.encode("utf-8")):
            raise Refused("receiver id is not this corp")
        return plain[20 : 20 + length]

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> bytes:
        """Verify, then decrypt: what WeCom sent, or :class:`Refused`."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode("ascii"), msg_signature.encode("ascii", "replace")):
            raise Refused("signature does not match")
        return self.decrypt(encrypted)
