"""WeCom's server API over aiohttp: access tokens and the customer-group endpoints Hearth uses.

* ``gettoken`` is asked once and reused until shortly before ``expires_in``; an answer
  ``40014``/``42001``/``40001`` (token invalid or expired) drops it and the call is made once
  more with a fresh one.
* Failures become :class:`TemporaryError` (network, HTTP 5xx, ``-1`` busy, frequency limits,
  with ``retry_after``) or :class:`PermanentError` (anything else WeCom refused). Their text
  names the endpoint and WeCom's errcode/errmsg, never the URL: the access token is a query
  parameter and must not reach a log.
* Calls are paced to ``calls_per_second`` so a roster sync of many groups stays inside
  WeCom's per-app frequency limits.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from adapters.base import PermanentError, TemporaryError

TOKEN_EXPIRED = {40014, 42001, 40001}
BUSY = {-1, 45009, 45033, 45011, 45035}  # system busy, frequency/concurrency limits
LIMIT_RETRY = 60.0
TIMEOUT = aiohttp.ClientTimeout(total=20)
EC = "/cgi-bin/externalcontact"
File = tuple[str, bytes, str]  # file name, content, content type


class WeComAPIError(PermanentError):
    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{path}: errcode {errcode}: {errmsg[:200]}")
        self.errcode = errcode


class WeComClient:
    """One corp app's client; holds the secret and the token, prints neither."""

    def __init__(self, api_base: str, corp_id: str, secret: str, calls_per_second: float = 20.0) -> None:
        self.api_base = api_base.rstrip("/")
        self.corp_id = corp_id
        self._secret = secret
        self._token: str | None = None
        self._token_until = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._interval = 1.0 / calls_per_second
        self._next_call = 0.0

    def __repr__(self) -> str:
        return f"WeComClient({self.api_base}, corp_id={self.corp_id!r})"

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- transport -------------------------------------------------------------------------------

    async def _pace(self) -> None:
        now = time.monotonic()
        wait = self._next_call - now
        self._next_call = max(now, self._next_call) + self._interval
        if wait > 0:
            await asyncio.sleep(wait)

    async def _request(
        self, method: str, path: str, params: dict[str, str], body: Any = None, file: File | None = None
    ) -> dict[str, Any]:
        await self._pace()
        form = None
        if file is not None:  # a fresh form each time: aiohttp sends one only once
            form = aiohttp.FormData()
            form.add_field("media", file[1], filename=file[0], content_type=file[2])
        try:
            kw: dict[str, Any] = {"data": form} if form is not None else {"json": body}
            async with self.session.request(method, self.api_base + path, params=params, **kw) as resp:
                if resp.status >= 500 or resp.status == 429:
                    raise TemporaryError(f"{path}: HTTP {resp.status}")
                if resp.status >= 400:
                    raise PermanentError(f"{path}: HTTP {resp.status}")
                data = json.loads(await resp.read())
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise TemporaryError(f"{path}: {type(err).__name__}") from None
        except ValueError:
            raise TemporaryError(f"{path}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise TemporaryError(f"{path}: the answer is not a JSON object")
        return data

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._token_until:
                params = {"corpid": self.corp_id, "corpsecret": self._secret}
                data = await self._request("GET", "/cgi-bin/gettoken", params)
                self._check("/cgi-bin/gettoken", data)
                self._token = str(data["access_token"])
                lifetime = float(data.get("expires_in") or 7200)
                self._token_until = time.monotonic() + max(1.0, lifetime - min(300.0, lifetime / 10))
            return self._token

    def _check(self, path: str, data: dict[str, Any]) -> None:
        code = int(data.get("errcode") or 0)
        if code == 0:
            return
        message = str(data.get("errmsg", ""))
        if code in BUSY:
            raise TemporaryError(f"{path}: errcode {code}: {message[:200]}", LIMIT_RETRY if code != -1 else None)
        if code in TOKEN_EXPIRED or code in (40013, 40091, 40056):
            raise TemporaryError(f"{path}: errcode {code}: check corp_id and secret in [platforms.wecom]", 60.0)
        raise WeComAPIError(path, code, message)

    async def call(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
        file: File | None = None,
    ) -> dict[str, Any]:
        """POST ``body`` (or ``file`` as a multipart upload) to ``path``; a stale token is replaced once."""
        for attempt in (1, 2):
            token = await self.token()
            data = await self._request("POST", path, {**(query or {}), "access_token": token}, body, file)
            code = int(data.get("errcode") or 0)
            if code in TOKEN_EXPIRED and attempt == 1:
                async with self._lock:
                    if self._token == token:
                        self._token = None
                continue
            self._check(path, data)
            return data
        raise AssertionError("unreachable")

    async def download(self, url: str) -> bytes:
        """A file WeCom links to (a join way's QR code image)."""
        try:
            async with self.session.get(url) as resp:
                if resp.status != 200:
                    raise TemporaryError(f"QR code download: HTTP {resp.status}")
                return await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise TemporaryError(f"QR code download: {type(err).__name__}") from None

    # --- customer groups -------------------------------------------------------------------------

    async def group_ids(self, owners: list[str]) -> list[str]:
        """Every customer group (not dismissed) the ``owners`` own, following the cursor."""
        out: list[str] = []
        cursor = ""
        while True:
            body: dict[str, Any] = {"status_filter": 0, "limit": 1000}
            if owners:
                body["owner_filter"] = {"userid_list": owners}
            if cursor:
                body["cursor"] = cursor
            data = await self.call(f"{EC}/groupchat/list", body)
            out += [str(g["chat_id"]) for g in data.get("group_chat_list", []) if g.get("chat_id")]
            cursor = str(data.get("next_cursor") or "")
            if not cursor:
                return out

    async def group(self, chat_id: str) -> dict[str, Any]:
        data = await self.call(f"{EC}/groupchat/get", {"chat_id": chat_id, "need_name": 1})
        return dict(data.get("group_chat") or {})

    async def add_join_way(self, chat_ids: list[str], state: str, remark: str = "") -> str:
        body = {"scene": 2, "chat_id_list": chat_ids, "state": state, "remark": remark[:30], "auto_create_room": 0}
        return str((await self.call(f"{EC}/groupchat/add_join_way", body))["config_id"])

    async def get_join_way(self, config_id: str) -> dict[str, Any]:
        data = await self.call(f"{EC}/groupchat/get_join_way", {"config_id": config_id})
        return dict(data.get("join_way") or {})

    async def del_join_way(self, config_id: str) -> None:
        await self.call(f"{EC}/groupchat/del_join_way", {"config_id": config_id})

    async def add_msg_template(self, sender: str, chat_ids: list[str], text: str) -> dict[str, Any]:
        body = {"chat_type": "group", "sender": sender, "chat_id_list": chat_ids, "text": {"content": text}}
        return await self.call(f"{EC}/add_msg_template", body)

    async def send_result(self, msgid: str, userid: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = ""
        while True:
            body: dict[str, Any] = {"msgid": msgid, "userid": userid, "limit": 1000}
            if cursor:
                body["cursor"] = cursor
            data = await self.call(f"{EC}/get_groupmsg_send_result", body)
            out += list(data.get("send_list") or [])
            cursor = str(data.get("next_cursor") or "")
            if not cursor:
                return out

    async def remind(self, msgid: str) -> None:
        await self.call(f"{EC}/remind_groupmsg_send", {"msgid": msgid})

    async def add_welcome(self, text: str) -> str:
        data = await self.call(f"{EC}/group_welcome_template/add", {"text": {"content": text}, "notify": 1})
        return str(data["template_id"])

    async def edit_welcome(self, template_id: str, text: str) -> None:
        await self.call(f"{EC}/group_welcome_template/edit", {"template_id": template_id, "text": {"content": text}})

    # --- the app chat (staff) --------------------------------------------------------------------

    async def send_to_staff(self, agent_id: int, userid: str, message: dict[str, Any], dedupe: bool = False) -> None:
        """``message/send`` from the app to one corp member (``message`` is e.g. ``{"msgtype": "text",
        "text": {...}}``). With ``dedupe``, WeCom drops the same content sent again within 30
        minutes, so a resend after a crash does not reach the member twice."""
        body: dict[str, Any] = {"touser": userid, "agentid": agent_id, **message}
        if dedupe:
            body.update(enable_duplicate_check=1, duplicate_check_interval=1800)
        data = await self.call("/cgi-bin/message/send", body)
        if userid in str(data.get("invaliduser") or "").split("|"):
            raise PermanentError(f"/cgi-bin/message/send: {userid} cannot receive messages from app {agent_id}")

    async def upload_image(self, name: str, content: bytes) -> str:
        """A temporary image (3 days) for an image message; returns its ``media_id``."""
        data = await self.call("/cgi-bin/media/upload", query={"type": "image"}, file=(name, content, "image/png"))
        return str(data["media_id"])
