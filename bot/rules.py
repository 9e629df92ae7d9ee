"""Keyword rules (``[[rules]]``): trigger → conditions → actions, run after the campaigns.

Rules see messages and commands in groups (never edited messages, never bots), in config
order. A trigger is tested first and costs no query; conditions follow, cheapest first
(groups, admin, time window), then cooldowns and daily caps, read from the rule's own hit
log (``rule_hits``, group-local days). Actions: reply, react, award points (ledger rows under
:data:`RULES`, reason = the rule's name), tag the member, delete the message.

Regular expressions run on the ``regex`` package with a time limit, on messages of at most
:data:`MAX_INPUT` characters (longer ones never match a regex rule: matching a cut-off text
would make ``$`` lie), so a pathological pattern (``(a+)+$``) costs a bounded time per
message and counts as no match (logged), never hangs the bot.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime, time
from typing import Any

from bot import commands
from bot.actions import Action, DeleteMessage, React, SendMessage
from bot.context import Context
from bot.events import Event, EventKind
from bot.i18n import render
from bot.rules_config import WEEKDAYS, RuleConfig, compile_pattern, parse_hours
from storage import audit, repo
from storage import rules as store
from storage.models import RuleHit
from storage.tx import write

log = logging.getLogger(__name__)
RULES = "@rules"  # the ledger's campaign for rule points; not a valid campaign name
REACTIONS, DELETE = "reactions", "delete"  # platform features (adapters.base.Feature) some actions need
MAX_INPUT = 4096  # longer messages are not matched by regex rules (a Telegram message is at most 4096)
REGEX_TIMEOUT = 0.1  # seconds
_add_hit = RuleHit.__table__.insert()


class Rule:
    """One ``[[rules]]`` table, compiled."""

    def __init__(self, config: RuleConfig) -> None:
        self.config = config
        self.keywords = frozenset(commands.normalize_alias(k) for k in config.keywords)
        self.pattern = compile_pattern(config.regex) if config.regex else None
        self.hours: tuple[time, time] | None = parse_hours(config.hours) if config.hours else None
        self.weekdays = {WEEKDAYS.index(d) for d in config.weekdays} if config.weekdays else None
        self.counted = bool(config.cooldown or config.chat_cooldown or config.daily_cap or config.chat_daily_cap)
        self._timeouts = 0

    @property
    def name(self) -> str:
        return self.config.name

    def triggered(self, ctx: Context, text: str) -> bool:
        c, command = self.config, ctx.command
        if c.command:
            return command is not None and command.name == c.command
        if command is not None:
            return False
        if self.keywords:
            return commands.normalize_alias(text) in self.keywords
        if self.pattern is not None:
            return len(text) <= MAX_INPUT and self._search(unicodedata.normalize("NFKC", text))
        return len(text.strip()) >= c.min_length

    def _search(self, text: str) -> bool:
        assert self.pattern is not None
        try:
            return self.pattern.search(text, timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            self._timeouts += 1
            if self._timeouts in (1, 10, 100) or self._timeouts % 1000 == 0:
                log.warning(
                    "rule %s: regex gave up after %.2fs (%d time(s)); simplify it",
                    self.name,
                    REGEX_TIMEOUT,
                    self._timeouts,
                )
            return False

    def allowed_now(self, ctx: Context) -> bool:
        c = self.config
        if c.groups is not None and ctx.chat_key not in c.groups:
            return False
        if c.admin_only and not ctx.is_admin:
            return False
        local = ctx.event.at.astimezone(ctx.timezone)
        if self.weekdays is not None and local.weekday() not in self.weekdays:
            return False
        if self.hours is not None:
            start, end = self.hours
            now = local.time()
            inside = start <= now < end if start < end else (now >= start or now < end)
            if not inside:
                return False
        return True

    async def within_limits(self, ctx: Context) -> bool:
        if not self.counted:
            return True
        c, conn, at = self.config, ctx.conn, ctx.event.at
        chat, member = ctx.chat_key, ctx.member_key
        assert chat is not None and member is not None
        if c.cooldown and _recent(await store.last_hit(conn, self.name, chat, member), at, c.cooldown.total_seconds()):
            return False
        if c.chat_cooldown and _recent(
            await store.last_hit(conn, self.name, chat), at, c.chat_cooldown.total_seconds()
        ):
            return False
        day = ctx.local_day()
        if c.daily_cap and await store.hits_on(conn, self.name, chat, day, member) >= c.daily_cap:
            return False
        return not (c.chat_daily_cap and await store.hits_on(conn, self.name, chat, day) >= c.chat_daily_cap)

    async def fire(self, ctx: Context) -> None:
        c, event = self.config, ctx.event
        chat, member = ctx.chat_key, ctx.member_key
        assert chat is not None and member is not None
        if self.counted:
            row: dict[str, Any] = dict(
                rule=self.name, chat_key=chat, member_key=member, day=ctx.local_day(), at=event.at
            )
            await write(ctx.conn, _add_hit, [row])
        if c.reply:
            template = c.replies.get(ctx.language, c.reply)  # type: ignore[call-overload]
            text = render(template, {"name": ctx.member_name, "group": ctx.group_title or chat})
            deleting = c.delete and DELETE in ctx.features
            ctx.emit(SendMessage(chat, text, reply_to=None if deleting else event.message_id))
        if c.react and event.message_id and REACTIONS in ctx.features:
            ctx.emit(React(chat, event.message_id, c.react))
        if c.points:
            await repo.add_points(
                ctx.conn,
                member=member,
                chat=chat,
                campaign=RULES,
                points=c.points,
                reason=self.name,
                event_ref=ctx.event_ref,
                at=event.at,
            )
        if c.tag:
            await store.add_tag(ctx.conn, chat, member, c.tag, self.name, event.at)
        if c.delete and event.message_id and DELETE in ctx.features:
            ctx.emit(DeleteMessage(chat, event.message_id))
        if c.command and c.admin_only and ctx.command is not None:  # an admin command: into the audit log
            await audit.record(
                ctx.conn,
                at=event.at,
                actor=member,
                chat=chat,
                command=ctx.command.name,
                args=ctx.command.raw_args,
                outcome="done",
                effect=f"rule {self.name}: " + self.effects(),
                event_ref=ctx.event_ref,
            )

    def effects(self) -> str:
        """What the rule does, in words, for the audit log."""
        c = self.config
        done = [f"+{c.points} points" if c.points else "", f"tag {c.tag}" if c.tag else ""]
        done += ["reply" if c.reply else "", f"react {c.react}" if c.react else "", "delete" if c.delete else ""]
        return ", ".join(d for d in done if d)

    def refuses(self, ctx: Context) -> bool:
        """Whether this is an admin-only command rule for this group and the caller is no admin."""
        c = self.config
        return bool(c.command and c.admin_only and not ctx.is_admin and (c.groups is None or ctx.chat_key in c.groups))


def _recent(last: datetime | None, now: datetime, seconds: float) -> bool:
    return last is not None and (now - last).total_seconds() < seconds


class Rules:
    """Every rule of the config, in order; the engine calls :meth:`apply` after the campaigns."""

    def __init__(self, configs: list[RuleConfig]) -> None:
        self.rules = [Rule(c) for c in configs]

    def wants(self, event: Event) -> bool:
        """Whether rules could fire on this event (a cheap test the engine makes for every event)."""
        return (
            bool(self.rules)
            and event.kind in (EventKind.MESSAGE_CREATED, EventKind.COMMAND_INVOKED)
            and not event.edited
            and event.user is not None
            and not event.user.is_bot
            and event.chat is not None
            and event.chat.type == "group"
        )

    async def apply(self, ctx: Context) -> list[Action]:
        text = ctx.event.text
        for rule in self.rules:
            if rule.triggered(ctx, text) and rule.allowed_now(ctx) and await rule.within_limits(ctx):
                await rule.fire(ctx)
                if rule.config.stop:
                    break
        return ctx.actions
