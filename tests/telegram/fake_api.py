"""An in-process fake of the Telegram Bot API over real HTTP (aiohttp), for tests and the bench.

It speaks the documented wire format (``/bot<token>/<method>``, form fields with JSON-encoded
objects, ``{"ok": ..., "result"|"error_code"/"description"/"parameters"}``) for the methods
Hearth uses, with Telegram's ``getUpdates`` semantics: updates stay until a later call's
``offset`` confirms them, long polling waits up to ``timeout``, ``allowed_updates`` is sticky
and filters what is delivered, and polling conflicts with a set webhook (409).

Switches: :meth:`BotState.storm` (429 with ``retry_after`` for a while, recording any request
to a chat that comes before its ``retry_after`` passed), :meth:`BotState.fail` (the next N
calls of a method answer 5xx or another error), ``refuse_confirmations`` (getUpdates calls
that would confirm something answer 502, as if the network failed), ``kicked`` chats (403)
and ``migrated`` chats (400 with ``migrate_to_chat_id``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSON_FIELDS = {"reply_markup", "reply_parameters", "allowed_updates", "options", "permissions", "entities", "reaction"}
INT_FIELDS = {"chat_id", "user_id", "message_id", "offset", "limit", "timeout", "until_date"}
SENDING = {
    "sendMessage",
    "sendPoll",
    "deleteMessage",
    "createChatInviteLink",
    "restrictChatMember",
    "banChatMember",
    "unbanChatMember",
    "setMessageReaction",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class BotState:
    token: str
    user: dict[str, Any]
    updates: list[dict[str, Any]] = field(default_factory=list)
    allowed_updates: list[str] | None = None
    webhook: dict[str, Any] | None = None
    calls: list[Call] = field(default_factory=list)
    served: Counter = field(default_factory=Counter)
    admins: dict[int, list[int]] = field(default_factory=dict)
    kicked: set[int] = field(default_factory=set)
    migrated: dict[int, int] = field(default_factory=dict)
    refuse_confirmations: bool = False
    storm_until: float = 0.0
    storm_retry_after: int = 1
    blocked_until: dict[int, float] = field(default_factory=dict)
    early: list[tuple[str, int, float]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _message_ids: Counter = field(default_factory=Counter)

    @property
    def bot_id(self) -> int:
        return int(self.user["id"])

    def push(self, *updates: dict[str, Any]) -> list[int]:
        """Queue updates (``update_id`` assigned when missing); returns their ids."""
        ids = []
        for update in updates:
            update = dict(update)
            update.setdefault("update_id", 500_000 + next(self._ids))
            self.updates.append(update)
            ids.append(update["update_id"])
        return ids

    def storm(self, seconds: float, retry_after: int) -> None:
        """Answer every sending call with 429 for ``seconds``."""
        self.storm_until = time.monotonic() + seconds
        self.storm_retry_after = retry_after

    def fail(self, method: str, times: int, status: int = 502, description: str = "Bad Gateway") -> None:
        self.failures.setdefault(method, []).extend([(status, description)] * times)

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of the successful calls of ``method`` (to ``chat_id``), in order."""
        return [
            c.params
            for c in self.calls
            if c.method == method and c.status == 200 and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def confirmed_below(self) -> int:
        """Every update id below this has been confirmed (dropped from the queue)."""
        return min((u["update_id"] for u in self.updates), default=2**62)


def _error(code: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"chat {chat_id}"}


class FakeBotAPI:
    """``async with FakeBotAPI() as fake: bot = fake.add_bot(...)``; ``fake.url`` is the api_url."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.bots: dict[str, BotState] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.closing = False

    def add_bot(self, token: str, username: str = "HearthBot") -> BotState:
        bot_id = int(token.partition(":")[0])
        state = BotState(token, {"id": bot_id, "is_bot": True, "first_name": username, "username": username})
        self.bots[token] = state
        return state

    async def __aenter__(self) -> FakeBotAPI:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_post("/_fake/{token}/push", self._control_push)
        app.router.add_get("/_fake/{token}/stats", self._control_stats)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closing = True
        await self.notify()
        if self._runner is not None:
            await self._runner.cleanup()

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Any, within: float = 30.0) -> None:
        """Wait until ``predicate()`` holds; re-checked after every request and push."""

        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), within)

    async def push(self, bot: BotState, *updates: dict[str, Any]) -> list[int]:
        ids = bot.push(*updates)
        await self.notify()
        return ids

    # --- the API --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        bot = self.bots.get(request.match_info["token"])
        if bot is None:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, time.monotonic())
        bot.calls.append(call)
        try:
            response = await self._answer(bot, method, params, request)
        except (KeyError, ValueError, TypeError) as err:
            response = _error(400, f"Bad Request: {type(err).__name__} {err}")
        call.status = response.status
        await self.notify()
        return response

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        out: dict[str, Any] = {}
        for key, value in form.items():
            value = str(value)
            if key in JSON_FIELDS:
                out[key] = json.loads(value)
            elif key in INT_FIELDS and value.lstrip("-").isdigit():
                out[key] = int(value)
            elif value in ("true", "false"):
                out[key] = value == "true"
            else:
                out[key] = value
        return out

    async def _answer(self, bot: BotState, method: str, p: dict[str, Any], request: web.Request) -> web.Response:
        queued = bot.failures.get(method)
        if queued:
            status, description = queued.pop(0)
            if description == "echo":
                description = f"Bad Request: cannot handle {request.path}"
            return _error(status, description)
        if method == "getUpdates":
            return await self._get_updates(bot, p)
        chat_id = p.get("chat_id")
        if method in SENDING:
            refused = self._refuse(bot, method, chat_id)
            if refused is not None:
                return refused
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        return _ok(handler(bot, p))

    def _refuse(self, bot: BotState, method: str, chat_id: int | None) -> web.Response | None:
        now = time.monotonic()
        if chat_id is not None:
            if now < bot.blocked_until.get(chat_id, 0.0):
                bot.early.append((method, chat_id, bot.blocked_until[chat_id] - now))
            if now < bot.storm_until:
                bot.blocked_until[chat_id] = now + bot.storm_retry_after
                wait = bot.storm_retry_after
                return _error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            if chat_id in bot.kicked:
                return _error(403, "Forbidden: bot was kicked from the supergroup chat")
            if chat_id in bot.migrated:
                new = bot.migrated[chat_id]
                return _error(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=new)
        return None

    async def _get_updates(self, bot: BotState, p: dict[str, Any]) -> web.Response:
        if bot.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
        offset = p.get("offset")
        if isinstance(offset, int) and offset > 0:
            if bot.refuse_confirmations and any(u["update_id"] < offset for u in bot.updates):
                return _error(502, "Bad Gateway")
            bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
        if "allowed_updates" in p:
            bot.allowed_updates = p["allowed_updates"] or None
        deadline = time.monotonic() + float(p.get("timeout", 0))
        while True:
            ready = self._deliverable(bot)
            left = deadline - time.monotonic()
            if ready or left <= 0 or self.closing:
                break
            try:
                await self.wait_for(lambda: bool(self._deliverable(bot)) or self.closing, within=left)
            except TimeoutError:
                pass
        batch = ready[: int(p.get("limit", 100))]
        for update in batch:
            bot.served[update["update_id"]] += 1
        return _ok(batch)

    def _deliverable(self, bot: BotState) -> list[dict[str, Any]]:
        allowed = bot.allowed_updates
        default = {"message", "edited_message", "callback_query", "my_chat_member", "poll_answer"}
        kinds = set(allowed) if allowed else default
        keep = [u for u in bot.updates if next(k for k in u if k != "update_id") in kinds]
        if len(keep) != len(bot.updates):  # Telegram never delivers types the bot did not ask for
            bot.updates = keep
        return keep

    # --- methods -----------------------------------------------------------------------------------

    def _message(self, bot: BotState, chat_id: int, **content: Any) -> dict[str, Any]:
        bot._message_ids[chat_id] += 1
        return {
            "message_id": 1000 + bot._message_ids[chat_id],
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": bot.user,
            **content,
        }

    def _m_getMe(self, bot: BotState, p: dict) -> Any:
        return bot.user

    def _m_sendMessage(self, bot: BotState, p: dict) -> Any:
        extra = {"reply_markup": p["reply_markup"]} if "reply_markup" in p else {}
        return self._message(bot, p["chat_id"], text=p["text"], **extra)

    def _m_sendPoll(self, bot: BotState, p: dict) -> Any:
        poll = {
            "id": f"poll{len(bot.calls)}",
            "question": p["question"],
            "options": [
                {"persistent_id": f"o{i}", "text": o["text"], "voter_count": 0} for i, o in enumerate(p["options"])
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": p.get("is_anonymous", True),
            "type": "regular",
            "allows_multiple_answers": p.get("allows_multiple_answers", False),
            "allows_revoting": False,
            "members_only": False,
        }
        return self._message(bot, p["chat_id"], poll=poll)

    def _m_createChatInviteLink(self, bot: BotState, p: dict) -> Any:
        link = {
            "invite_link": f"https://t.me/+fake{len(bot.calls):06d}",
            "creator": bot.user,
            "creates_join_request": False,
            "is_primary": False,
            "is_revoked": False,
        }
        if p.get("name"):
            link["name"] = p["name"]
        return link

    def _m_getChatAdministrators(self, bot: BotState, p: dict) -> Any:
        ids = bot.admins.get(p["chat_id"], [])
        out = []
        for i, uid in enumerate(ids):
            user = bot.user if uid == bot.bot_id else {"id": uid, "is_bot": False, "first_name": f"admin{uid}"}
            out.append({"status": "creator" if i == 0 else "administrator", "user": user, "is_anonymous": False})
            if i:
                out[-1].update(
                    {
                        k: True
                        for k in ("can_manage_chat", "can_delete_messages", "can_restrict_members", "can_invite_users")
                    }
                    | {
                        k: False
                        for k in (
                            "can_be_edited",
                            "can_manage_video_chats",
                            "can_promote_members",
                            "can_change_info",
                            "can_post_stories",
                            "can_edit_stories",
                            "can_delete_stories",
                            "can_send_welcome_messages",
                        )
                    }
                )
        return out

    def _m_setWebhook(self, bot: BotState, p: dict) -> Any:
        bot.webhook = p
        bot.allowed_updates = p.get("allowed_updates") or bot.allowed_updates
        return True

    def _m_deleteWebhook(self, bot: BotState, p: dict) -> Any:
        bot.webhook = None
        return True

    def _true(self, bot: BotState, p: dict) -> Any:
        return True

    def _m_setMessageReaction(self, bot: BotState, p: dict) -> Any:
        for reaction in p.get("reaction") or []:  # ReactionTypeEmoji objects, as documented
            if reaction["type"] != "emoji" or not reaction["emoji"]:
                raise ValueError("REACTION_INVALID")
        return True

    _m_deleteMessage = _m_answerCallbackQuery = _m_restrictChatMember = _true
    _m_banChatMember = _m_unbanChatMember = _true

    # --- control endpoints (for a fake running in another process) ------------------------------

    async def _control_push(self, request: web.Request) -> web.Response:
        bot = self.bots[request.match_info["token"]]
        ids = await self.push(bot, *(await request.json()))
        return web.json_response({"ids": len(ids)})

    async def _control_stats(self, request: web.Request) -> web.Response:
        bot = self.bots[request.match_info["token"]]
        sends = bot.sent()
        return web.json_response(
            {"sent": len(sends), "characters": sum(len(s["text"]) for s in sends), "queued": len(bot.updates)}
        )
