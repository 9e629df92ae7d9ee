"""An in-process fake of WeCom's server API over real HTTP (aiohttp), for tests and the bench.

It answers the documented wire format (``?access_token=`` on every call, JSON bodies,
``{"errcode": 0, "errmsg": "ok", ...}``) for what Hearth uses: ``gettoken`` (tokens expire
after ``token_lifetime``; :meth:`FakeWeCom.expire_tokens` makes every issued token answer
``42001``), ``groupchat/list`` (cursor pages of ``page_size``), ``groupchat/get`` (optionally
lagging behind changes, as WeCom's details do), ``add_join_way`` / ``get_join_way`` /
``del_join_way`` with a QR image behind the returned URL, ``add_msg_template`` /
``get_groupmsg_send_result`` / ``remind_groupmsg_send``, the group welcome templates, and the
app chat: ``message/send`` (what reached whom in :attr:`FakeWeCom.inbox`, WeCom's duplicate
check included) and ``media/upload`` (multipart, images kept in :attr:`FakeWeCom.media`).

Group changes are made with :meth:`join` / :meth:`leave` (a join through a join way carries
that way's ``state``), which also return the ``change_external_chat`` XML WeCom would POST.
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24 + b"fake-qr"
EC = "/cgi-bin/externalcontact"


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    token: str


@dataclass
class FakeWeCom:
    corp_id: str = "ww0123456789abcdef"
    secret: str = "app-secret-for-tests-0123456789"
    token_lifetime: int = 7200
    page_size: int = 2
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    lag: dict[str, int] = field(default_factory=dict)  # chat id -> stale answers left
    stale: dict[str, dict[str, Any]] = field(default_factory=dict)
    join_ways: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    welcome: dict[str, str] = field(default_factory=dict)
    agent_id: int = 1000002
    corp_members: set[str] = field(default_factory=lambda: {"zhangsan", "lisi"})
    inbox: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # userid -> messages from the app
    media: dict[str, bytes] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # path tail -> errcodes
    now: int = 1_780_000_000
    clock: Any = None  # a bot.clock.Clock: WeCom's times follow it when set
    _tokens: dict[str, float] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeWeCom:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/{tail:.*}", self._api)
        app.router.add_get("/qr/{config_id}.png", self._qr)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    # --- the world --------------------------------------------------------------------------------

    def add_group(self, chat_id: str, owner: str, name: str = "", members: tuple[str, ...] = ()) -> None:
        self.groups[chat_id] = {
            "chat_id": chat_id,
            "name": name or chat_id,
            "owner": owner,
            "create_time": self.now,
            "member_list": [self._member(owner, 1, 0, None)],
            "admin_list": [],
        }
        for userid in members:
            self.groups[chat_id]["member_list"].append(self._member(userid, 2, 3, None))

    def tick(self) -> int:
        """WeCom's unix time now (distinct for every change)."""
        wall = int(self.clock.now().timestamp()) if self.clock is not None else 0
        self.now = max(self.now + 1, wall)
        return self.now

    def _member(self, userid: str, kind: int, scene: int, state: str | None, unionid: str | None = None) -> dict:
        self.tick()
        m: dict[str, Any] = {"userid": userid, "type": kind, "join_time": self.now, "join_scene": scene}
        m["name"] = userid.title()
        if state:
            m["state"] = state
        if unionid:
            m["unionid"] = unionid
        return m

    def _snapshot(self, chat_id: str, lag: int) -> None:
        if lag:
            self.stale[chat_id] = copy.deepcopy(self.groups[chat_id])
            self.lag[chat_id] = lag

    def join(
        self, chat_id: str, userid: str, state: str | None = None, lag: int = 0, unionid: str | None = None
    ) -> bytes:
        """A customer joins (through the join way with ``state``, if given); returns the callback XML."""
        self._snapshot(chat_id, lag)
        scene = 3 if state else 1
        self.groups[chat_id]["member_list"].append(self._member(userid, 2, scene, state, unionid))
        return change_xml(self.corp_id, chat_id, "update", "add_member", [userid], self.now)

    def leave(self, chat_id: str, userid: str, lag: int = 0, items: bool = True) -> bytes:
        self._snapshot(chat_id, lag)
        members = self.groups[chat_id]["member_list"]
        members[:] = [m for m in members if m["userid"] != userid]
        self.tick()
        return change_xml(self.corp_id, chat_id, "update", "del_member", [userid], self.now, items=items)

    def expire_tokens(self) -> None:
        self._tokens = dict.fromkeys(self._tokens, 0.0)

    def called(self, tail: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(tail)]

    def confirm(self, msgid: str, status: int = 1) -> None:
        """The owner taps "send" (status 1) in WeCom, or WeCom gives up (2, 3)."""
        for chat_id in self.templates[msgid]["chat_id_list"]:
            self.templates[msgid]["results"][chat_id] = status

    # --- handlers ---------------------------------------------------------------------------------

    async def _gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("corpid") != self.corp_id or q.get("corpsecret") != self.secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"AccessTokenFake{next(self._ids):06d}"
        self._tokens[token] = time.monotonic() + self.token_lifetime
        self.tokens_issued.append(token)
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_lifetime}
        )

    async def _qr(self, request: web.Request) -> web.Response:
        if request.match_info["config_id"] not in self.join_ways:
            return web.Response(status=404)
        return web.Response(body=PNG, content_type="image/png")

    async def _api(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        path = "/cgi-bin/" + request.match_info["tail"]
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            upload = form.get("media")
            body = {"type": request.query.get("type", "")}
            if isinstance(upload, web.FileField):
                body.update(filename=upload.filename, content=upload.file.read())
        else:
            body = await request.json()
        self.calls.append(Call(path, body, token))
        if token not in self._tokens:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        if self._tokens[token] <= time.monotonic():
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        for key, codes in self.fail_next.items():
            if path.endswith(key) and codes:
                return web.json_response({"errcode": codes.pop(0), "errmsg": "injected"})
        handler = ROUTES.get(path.removeprefix(EC))
        if handler is None:
            return web.json_response({"errcode": 404, "errmsg": f"no such api {path}"})
        return web.json_response({"errcode": 0, "errmsg": "ok", **handler(self, body)})

    def _list(self, body: dict) -> dict:
        owners = set((body.get("owner_filter") or {}).get("userid_list") or [])
        ids = sorted(c for c, g in self.groups.items() if not owners or g["owner"] in owners)
        start = int(body.get("cursor") or 0)
        page = ids[start : start + self.page_size]
        more = start + self.page_size < len(ids)
        return {
            "group_chat_list": [{"chat_id": c, "status": 0} for c in page],
            "next_cursor": str(start + self.page_size) if more else "",
        }

    def _get(self, body: dict) -> dict:
        chat_id = body["chat_id"]
        if chat_id not in self.groups:
            raise _Err(49008)
        if self.lag.get(chat_id):
            self.lag[chat_id] -= 1
            return {"group_chat": copy.deepcopy(self.stale[chat_id])}
        return {"group_chat": copy.deepcopy(self.groups[chat_id])}

    def _add_join_way(self, body: dict) -> dict:
        if body.get("scene") != 2 or not 1 <= len(body.get("chat_id_list") or []) <= 5:
            raise _Err(40058)
        if len(body.get("state") or "") > 30:
            raise _Err(40058)
        config_id = f"cfg{next(self._ids)}"
        self.join_ways[config_id] = {**body, "config_id": config_id, "qr_code": f"{self.url}/qr/{config_id}.png"}
        return {"config_id": config_id}

    def _get_join_way(self, body: dict) -> dict:
        if body["config_id"] not in self.join_ways:
            raise _Err(41044)
        return {"join_way": self.join_ways[body["config_id"]]}

    def _del_join_way(self, body: dict) -> dict:
        if self.join_ways.pop(body["config_id"], None) is None:
            raise _Err(41044)
        return {}

    def _add_msg_template(self, body: dict) -> dict:
        assert body["chat_type"] == "group"
        msgid = f"msg{next(self._ids)}"
        chats = list(body.get("chat_id_list") or [])
        self.templates[msgid] = {**body, "results": dict.fromkeys(chats, 0), "reminded": 0}
        return {"msgid": msgid, "fail_list": []}

    def _send_result(self, body: dict) -> dict:
        t = self.templates[body["msgid"]]
        assert body["userid"] == t["sender"]
        return {"send_list": [{"chat_id": c, "userid": t["sender"], "status": s} for c, s in t["results"].items()]}

    def _remind(self, body: dict) -> dict:
        self.templates[body["msgid"]]["reminded"] += 1
        return {}

    def _welcome_add(self, body: dict) -> dict:
        template_id = f"tpl{next(self._ids)}"
        self.welcome[template_id] = body["text"]["content"]
        return {"template_id": template_id}

    def _welcome_edit(self, body: dict) -> dict:
        if body["template_id"] not in self.welcome:
            raise _Err(41048)
        self.welcome[body["template_id"]] = body["text"]["content"]
        return {}

    def _welcome_get(self, body: dict) -> dict:
        return {"text": {"content": self.welcome[body["template_id"]]}}

    def _message_send(self, body: dict) -> dict:
        if body.get("agentid") != self.agent_id:
            raise _Err(301002)  # not this app
        user = str(body.get("touser") or "")
        if user not in self.corp_members:
            return {"invaliduser": user}
        kind = body["msgtype"]
        message = {"msgtype": kind, kind: body[kind]}
        if message["msgtype"] == "image" and body["image"]["media_id"] not in self.media:
            raise _Err(40007)  # invalid media_id
        sent = self.inbox.setdefault(user, [])
        if not (body.get("enable_duplicate_check") and message in sent):  # WeCom drops a repeat
            sent.append(message)
        return {"invaliduser": "", "msgid": f"appmsg{next(self._ids)}"}

    def _media_upload(self, body: dict) -> dict:
        if body.get("type") != "image" or not body.get("content"):
            raise _Err(40005)  # invalid file type
        media_id = f"media{next(self._ids)}"
        self.media[media_id] = body["content"]
        return {"type": "image", "media_id": media_id, "created_at": str(self.now)}


class _Err(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _safe(handler: Any) -> Any:
    def call(fake: FakeWeCom, body: dict) -> dict:
        try:
            return handler(fake, body)
        except _Err as err:
            return {"errcode": err.code, "errmsg": "refused"}

    return call


ROUTES = {
    "/groupchat/list": _safe(FakeWeCom._list),
    "/groupchat/get": _safe(FakeWeCom._get),
    "/groupchat/add_join_way": _safe(FakeWeCom._add_join_way),
    "/groupchat/get_join_way": _safe(FakeWeCom._get_join_way),
    "/groupchat/del_join_way": _safe(FakeWeCom._del_join_way),
    "/add_msg_template": _safe(FakeWeCom._add_msg_template),
    "/get_groupmsg_send_result": _safe(FakeWeCom._send_result),
    "/remind_groupmsg_send": _safe(FakeWeCom._remind),
    "/group_welcome_template/add": _safe(FakeWeCom._welcome_add),
    "/group_welcome_template/edit": _safe(FakeWeCom._welcome_edit),
    "/group_welcome_template/get": _safe(FakeWeCom._welcome_get),
    "/cgi-bin/message/send": _safe(FakeWeCom._message_send),
    "/cgi-bin/media/upload": _safe(FakeWeCom._media_upload),
}


def app_text_xml(corp_id: str, userid: str, content: str, msg_id: int, agent_id: int = 1000002) -> bytes:
    """The plaintext XML of a text message a corp member sends to the app."""
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
        f"<CreateTime>1780000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID></xml>"
    ).encode()


def change_xml(
    corp_id: str, chat_id: str, change: str, detail: str, members: list[str], at: int, items: bool = True
) -> bytes:
    """The plaintext XML of a ``change_external_chat`` callback; ``items=False`` is the older
    comma-separated ``MemChangeList``."""
    if items:
        listed = "<MemChangeList>" + "".join(f"<Item><![CDATA[{m}]]></Item>" for m in members) + "</MemChangeList>"
    else:
        listed = f"<MemChangeList><![CDATA[{','.join(members)}]]></MemChangeList>"
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[{chat_id}]]></ChatId>"
        f"<ChangeType><![CDATA[{change}]]></ChangeType><UpdateDetail><![CDATA[{detail}]]></UpdateDetail>"
        f"<JoinScene>3</JoinScene><QuitScene>0</QuitScene><MemChangeCnt>{len(members)}</MemChangeCnt>"
        f"{listed}<LastMemVer>1</LastMemVer><CurMemVer>2</CurMemVer></xml>"
    ).encode()
