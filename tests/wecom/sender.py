"""A callback sender that encrypts and signs exactly as WeCom does, written apart from the
adapter's own crypto (straight from WeCom's description), so the two check each other."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "hearthCallbackToken1"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters


def wecom_encrypt(aes_key43: str, receiver: str, message: bytes, random16: bytes | None = None) -> str:
    key = base64.b64decode(aes_key43 + "=")
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + receiver.encode()
    n = 32 - len(plain) % 32
    plain += bytes([n]) * n
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def wecom_sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


class CallbackSender:
    """POSTs callbacks to Hearth's endpoint the way WeCom does."""

    def __init__(self, url: str, corp_id: str, token: str = TOKEN, aes_key: str = AES_KEY) -> None:
        self.url, self.corp_id, self.token, self.aes_key = url, corp_id, token, aes_key
        self._n = 0

    def seal(self, xml: bytes, corp_id: str | None = None) -> tuple[dict[str, str], bytes]:
        self._n += 1
        timestamp, nonce = str(1_780_000_000 + self._n), f"nonce{self._n}"
        encrypted = wecom_encrypt(self.aes_key, corp_id or self.corp_id, xml)
        params = {"msg_signature": wecom_sign(self.token, timestamp, nonce, encrypted), "timestamp": timestamp}
        params["nonce"] = nonce
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
        ).encode()
        return params, body

    async def post(self, params: dict[str, str], body: bytes) -> tuple[int, str]:
        async with aiohttp.ClientSession() as s, s.post(self.url, params=params, data=body) as r:
            return r.status, await r.text()

    async def send(self, xml: bytes, **kw: Any) -> tuple[int, str]:
        return await self.post(*self.seal(xml, **kw))

    async def verify_url(self, echo: bytes = b"echo-1234567890") -> tuple[int, str]:
        encrypted = wecom_encrypt(self.aes_key, self.corp_id, echo)
        params = {"timestamp": "1780000000", "nonce": "n1", "echostr": encrypted}
        params["msg_signature"] = wecom_sign(self.token, "1780000000", "n1", encrypted)
        async with aiohttp.ClientSession() as s, s.get(self.url, params=params) as r:
            return r.status, await r.text()
