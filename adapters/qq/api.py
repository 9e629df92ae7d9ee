"""The QQ OpenAPI over aiohttp: ``Authorization: QQBot <token>``, one retry after a 401.

Every call returns the decoded JSON answer (``{}`` for an empty one) or raises
:class:`adapters.qq.errors.QQApiError` with the platform's code and message.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from adapters.qq.errors import QQApiError
from adapters.qq.token import AccessToken

TIMEOUT = aiohttp.ClientTimeout(total=15)


class QQApi:
    def __init__(self, session: aiohttp.ClientSession, base: str, app_id: str, token: AccessToken) -> None:
        self.session = session
        self.base = base
        self.app_id = app_id
        self.token = token
        self.calls = 0

    def __repr__(self) -> str:
        return f"QQApi({self.base}, app_id={self.app_id})"

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        token = await self.token.get()
        try:
            return await self._once(method, path, body, token)
        except QQApiError as err:
            if err.status != 401:
                raise
        return await self._once(method, path, body, await self.token.refresh(failed=token))

    async def _once(self, method: str, path: str, body: dict[str, Any] | None, token: str) -> dict[str, Any]:
        headers = {"Authorization": f"QQBot {token}", "X-Union-Appid": self.app_id}
        self.calls += 1
        async with self.session.request(method, self.base + path, json=body, headers=headers, timeout=TIMEOUT) as resp:
            raw = await resp.read()
            status, retry = resp.status, resp.headers.get("Retry-After")
        data: Any = {}
        if raw.strip():
            try:
                data = json.loads(raw)
            except ValueError:
                data = {"message": raw[:200].decode("utf-8", "replace")}
        if not isinstance(data, dict):
            data = {"data": data}
        code = data.get("code")
        failed = status >= 400 or (isinstance(code, int) and code != 0 and "id" not in data)
        if failed:
            code_i = code if isinstance(code, int) else data.get("err_code")
            code_i = code_i if isinstance(code_i, int) else None
            message = str(data.get("message") or data.get("msg") or "")
            try:
                retry_after = float(retry) if retry else None
            except ValueError:
                retry_after = None
            raise QQApiError(status, code_i, message[:300], retry_after)
        return data
