"""``hearth simulate``: replay a scripted conversation with a simulated clock, no network.

The script is JSON Lines, one sandbox event per line::

    {"at": "2026-03-01T08:00:00+08:00", "chat": "g1", "user": "alice", "text": "/checkin"}
    {"at": "2026-03-01T09:00:00+08:00", "chat": "g1", "user": "bob", "join": true}

It runs the real engine, scheduler and sender against an in-memory SQLite database; the
clock jumps from event to event, firing every schedule due in between.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from adapters.base import Feature, SendResult
from adapters.sandbox.decode import PLATFORM, BadFrame, decode
from bot import actions as act
from bot import coupon_ops
from bot.clock import ManualClock
from bot.config import Config, SandboxSettings
from bot.engine import Engine
from bot.events import split_key
from bot.ratelimit import RateLimits
from bot.scheduler import Scheduler
from bot.sender import Sender
from storage import db as storage_db
from storage.models import Checkin, LedgerEntry

OPS = ("text", "join", "leave", "button")
EXAMPLE_AT = "2026-03-01T08:00:00+08:00"


class ScriptError(Exception):
    """Malformed script lines, each as ``file:line: message``."""


@dataclass(frozen=True, slots=True)
class Step:
    line: int
    at: datetime
    frame: dict[str, Any]


def _short(value: Any, prefix: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{prefix!r} must be a non-empty string")
    return value.removeprefix(f"{PLATFORM}:")


def _time(data: dict[str, Any]) -> datetime:
    if "at" not in data:
        raise ValueError(f"'at' is missing: when it happens, e.g. {EXAMPLE_AT}")
    try:
        at = datetime.fromisoformat(data["at"]) if isinstance(data["at"], str) else None
    except ValueError:
        at = None
    if at is None:
        raise ValueError(f"'at' is not a time: {json.dumps(data['at'], ensure_ascii=False)[:40]} (e.g. {EXAMPLE_AT})")
    if at.tzinfo is None:
        raise ValueError(f"'at' needs a UTC offset, e.g. {EXAMPLE_AT}")
    return at


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON: {err.msg} at column {err.colno}") from None


def known_names(config: Config) -> tuple[set[str] | None, set[str] | None]:
    """The sandbox chats and members a script may name (None: any), from the config."""
    sandbox = config.platforms.sandbox
    if sandbox is None:
        return None, None
    chats = {g.id for g in sandbox.groups} | {
        split_key(g.id)[1] for g in config.groups if split_key(g.id)[0] == PLATFORM
    }
    members = set(sandbox.members) if "members" in sandbox.model_fields_set else None
    return chats, members


def parse_script(
    text: str, path: str = "<script>", chats: set[str] | None = None, members: set[str] | None = None
) -> list[Step]:
    """The script's steps; every bad line is reported at once as ``path:line: message``.

    ``chats`` and ``members``, when given, are the only names a line may use.
    """
    steps: list[Step] = []
    problems: list[str] = []
    last: datetime | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            data = _json(raw)
            if not isinstance(data, dict):
                raise ValueError("each line must be a JSON object")
            unknown = set(data) - {"at", "chat", "user", "name", "invite", "message", *OPS}
            if unknown:
                raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
            at = _time(data)
            if last is not None and at < last:
                raise ValueError("'at' goes back in time; lines must be in time order")
            ops = [op for op in OPS if op in data]
            if len(ops) != 1:
                raise ValueError("give exactly one of 'text', 'join', 'leave', 'button'")
            op = ops[0]
            frame: dict[str, Any] = {"chat": _short(data.get("chat"), "chat"), "user": _short(data.get("user"), "user")}
            if chats is not None and frame["chat"] not in chats:
                raise ValueError(
                    f"unknown chat {frame['chat']!r}; the sandbox has {', '.join(sorted(chats)) or 'none'}"
                )
            if members is not None and frame["user"] not in members:
                raise ValueError(
                    f"unknown member {frame['user']!r}; [platforms.sandbox] members are {', '.join(sorted(members))}"
                )
            if "name" in data:
                frame["name"] = str(data["name"])
            if op == "text":
                frame.update(op="say", text=data["text"])
            elif op == "button":
                frame.update(op="press", data=data["button"], message=data.get("message"))
            else:
                if data[op] is not True:
                    raise ValueError(f"'{op}' must be true")
                frame["op"] = op
                if op == "join" and "invite" in data:
                    frame["invite"] = data["invite"]
            decode(frame, "0", at, {})  # the same validation the sandbox page gets
            last = at
            steps.append(Step(number, at, frame))
        except (ValueError, BadFrame) as err:
            problems.append(f"{path}:{number}: {err}")
    if problems:
        raise ScriptError("\n".join(problems))
    return steps


class RecordingAdapter:
    """The sandbox platform without a page: records every action with the simulated time."""

    platform = PLATFORM
    features = frozenset(
        {
            Feature.BUTTONS,
            Feature.DIRECT_MESSAGES,
            Feature.INVITE_LINKS,
            Feature.DELETE,
            Feature.JOIN_ATTRIBUTION,
            Feature.MUTE,
            Feature.KICK,
            Feature.REPLIES,
            Feature.REACTIONS,
        }
    )
    limits = RateLimits(per_second=1e9, burst=10**9, per_chat_per_second=1e9, per_chat_burst=10**9)

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.performed: list[tuple[datetime, act.Action]] = []
        self.invites: dict[str, str] = {}  # invite code -> member key (alice's link to g1: "alice@g1")

    async def start(self, sink: object) -> None: ...

    async def stop(self) -> None: ...

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        self.performed.append((self.clock.now(), action))
        if isinstance(action, act.CreateInviteLink):
            code = f"{split_key(action.for_user)[1]}@{split_key(action.chat)[1]}"
            self.invites[code] = action.for_user
            return SendResult(message_id=str(len(self.performed)), data={"link": code})
        return SendResult(message_id=str(len(self.performed)))

    def invite_creator(self, code: object) -> str | None:
        """Whose invite link ``code`` is (the platform knows the links it made)."""
        return self.invites.get(code) if isinstance(code, str) else None


async def simulate(config: Config, text: str, path: str = "<script>", as_json: bool = False) -> list[str]:
    """Run the script; return the transcript lines (or JSON lines)."""
    steps = parse_script(text, path, *known_names(config))
    if not steps:
        raise ScriptError(f"{path}: the script has no events")
    sandbox = config.platforms.sandbox or SandboxSettings(groups=[])
    config = config.model_copy(
        update={
            "bot": config.bot.model_copy(update={"database": "sqlite+aiosqlite:///:memory:"}),
            "platforms": config.platforms.model_copy(update={"sandbox": sandbox}),
        }
    )
    clock = ManualClock(steps[0].at)
    db = storage_db.create_engine(config.bot.database)
    await storage_db.upgrade(db)
    adapter = RecordingAdapter(clock)
    engine = Engine(config, db, clock, features={PLATFORM: adapter.features})
    sender = Sender(db, {PLATFORM: adapter}, clock)
    await coupon_ops.stock_for_rehearsal(db, config, clock.now())
    titles = {g.id: g.title or g.id for g in sandbox.groups}
    chats = {f"{PLATFORM}:{s.frame['chat']}": titles.get(s.frame["chat"], "") for s in steps}
    scheduler = Scheduler(config, db, clock, engine.campaigns, engine.handle, chats)
    out: list[str] = []
    seen = 0

    async def flush() -> None:
        nonlocal seen
        while await sender.drain() == 0.0:
            pass
        for when, action in adapter.performed[seen:]:
            out.append(_render(config, when, action, as_json))
        seen = len(adapter.performed)

    try:
        for step in steps:
            await scheduler.refresh()
            while (fire := scheduler.next_fire()) is not None and fire <= step.at:
                clock.set(fire)
                await scheduler.run_due()
                await flush()
            clock.set(step.at)
            if not as_json:
                out.append(_render_input(config, step))
            creator = adapter.invite_creator(step.frame.get("invite"))
            event = decode(step.frame, f"sim{step.line}", step.at, titles, creator)
            if event is not None:
                await engine.handle([event])
            await flush()
        cost = await coupon_ops.rehearsal_cost(db, config, clock.now())
        if as_json:
            out.extend(await _summary(db, len(adapter.performed), cost))
        elif config.coupons:
            out.extend(coupon_ops.cost_lines(cost))
    finally:
        await db.dispose()
    return out


def _local(config: Config, chat: str | None, when: datetime) -> datetime:
    tz = config.timezone_of(chat) if chat and not chat.startswith("dm:") else config.bot.timezone
    return when.astimezone(ZoneInfo(tz))


def _render_input(config: Config, step: Step) -> str:
    f = step.frame
    chat = f"{PLATFORM}:{f['chat']}"
    what = {
        "say": lambda: f"{f['user']}: {f['text']}",
        "join": lambda: f"{f['user']} joins",
        "leave": lambda: f"{f['user']} leaves",
        "press": lambda: f"{f['user']} presses [{f['data']}]",
    }[f["op"]]()
    return f"{_local(config, chat, step.at):%Y-%m-%d %H:%M %z} {chat} | {what}"


_INTERNAL = frozenset({"chat", "cause"})  # delivery plumbing, not what the bot says


def _render(config: Config, when: datetime, action: act.Action, as_json: bool) -> str:
    target = act.target_of(action)
    local = _local(config, target, when)
    if as_json:
        data = act.dump(action)
        data.pop("type")
        text = data.pop("content", None) or data.pop("question", None)
        return json.dumps(
            {
                "at": local.isoformat(),
                "action": action.kind,
                "chat": target,
                "text": text,
                **{k: v for k, v in data.items() if v not in (None, (), [], "", False) and k not in _INTERNAL},
            },
            ensure_ascii=False,
        )
    body = getattr(action, "content", None) or action.kind
    if isinstance(action, act.React):
        body = f"reacts {action.emoji} to message {action.message_id}"
    buttons = " ".join(f"[{b.text}]" for row in getattr(action, "buttons", ()) for b in row)
    lines = f"{body}\n{buttons}".strip().splitlines() or [""]
    # what the bot says is quoted as "bot:"; what it does (delete, mute, invite link, ...) as "[bot ...]"
    speaker = "bot:" if getattr(action, "content", None) else "[bot]"
    first = f"{local:%Y-%m-%d %H:%M %z} {target} > {speaker} {lines[0]}"
    return "\n".join([first, *(f"{'':>24}{line}" for line in lines[1:])])


async def _summary(db: Any, messages: int, cost: dict | None = None) -> list[str]:
    ledger, checkins = LedgerEntry.__table__.c, Checkin.__table__.c
    async with db.connect() as conn:
        points = {
            r[0]: int(r[1])
            for r in await conn.execute(
                select(ledger.member_key, func.sum(ledger.points))
                .group_by(ledger.member_key)
                .order_by(ledger.member_key)
            )
        }
        streaks: dict[str, dict[str, int]] = {}
        rows = await conn.execute(
            select(checkins.campaign, checkins.member_key, checkins.streak).order_by(checkins.day)
        )
        for campaign, member, streak in rows:
            streaks.setdefault(campaign, {})[member] = streak
    summary = {"points": points, "streaks": streaks, "messages": messages, "cost": cost or {}}
    return [json.dumps({"summary": summary}, ensure_ascii=False)]
