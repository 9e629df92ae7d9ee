"""Built-in commands (``/help`` and the admin commands) and the admin gate, for the engine.

A built-in answers a command that no live campaign answers in the chat, so a campaign may
still define its own ``/help``. Commands marked ``admin`` — built-in or a campaign's, such as
``/quiz start`` — are refused to non-admins with one short reply and no effect at all (no
campaign runs, nothing is audited). Every admin command an admin runs is written to the
audit log in the same transaction as its effect. Built-ins may set one-off timers; they
come back as ``timer.fired`` events named :data:`ADMIN`, which no campaign can be called.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot import commands, i18n
from bot.actions import Action
from bot.context import Context
from bot.events import Command, Event, EventKind
from campaigns.base import Campaign, CommandSpec
from storage import audit

if TYPE_CHECKING:
    from bot.config import Config
    from bot.rules import Rules
    from bot.switches import Switches

ADMIN = "@admin"  # the name built-ins act under (ledger rows, timers); not a valid campaign name
MODULES = ("bot.admin_campaigns", "bot.admin_points", "bot.admin_broadcast", "bot.admin_stats", "bot.admin_coupons")


class Host(Protocol):
    """What built-ins may see of the engine."""

    config: Config
    campaigns: list[Campaign]
    command_table: dict[str, list[tuple[Campaign, CommandSpec]]]
    switches: Switches
    rules: Rules


class Usage(Exception):
    """Bad arguments: the caller gets a usage hint (the command's own, unless one is given)."""

    def __init__(self, usage: str = "") -> None:
        super().__init__(usage)
        self.usage = usage


class Rejected(Exception):
    """The command cannot be done: the caller gets the message ``key`` (an i18n key)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


Handler = Callable[[Context, Host], Awaitable[str]]  # returns the effect, for the audit log


@dataclass(frozen=True, slots=True)
class Builtin:
    spec: CommandSpec
    run: Handler
    bot_admin: bool = False  # only ``[bot] admins`` may use it (``/help`` hides it from the others)


REGISTRY: dict[str, Builtin] = {}
TIMERS: dict[str, Handler] = {}  # timer-key prefix -> handler


def builtin(
    name: str,
    description: str,
    usage: str = "",
    admin: bool = False,
    bot_admin: bool = False,
    private: bool = False,
) -> Callable[[Handler], Handler]:
    """Decorator: make ``handler`` the built-in ``/name`` (``private``: see ``CommandSpec``)."""

    def register(handler: Handler) -> Handler:
        spec = CommandSpec(name, description, usage or f"/{name}", admin or bot_admin, private=private)
        REGISTRY[name] = Builtin(spec, handler, bot_admin)
        return handler

    return register


def on_timer(prefix: str) -> Callable[[Handler], Handler]:
    """Decorator: ``handler`` gets the built-ins' timers whose key starts with ``prefix:``."""

    def register(handler: Handler) -> Handler:
        TIMERS[prefix] = handler
        return handler

    return register


def load_all() -> None:
    for name in MODULES:
        importlib.import_module(name)


# --- what the engine calls --------------------------------------------------------------------


@dataclass(slots=True)
class Planned:
    """A built-in about to run for one event (after the event's campaigns)."""

    kind: str  # builtin, refuse, audit, timer
    ctx: Context
    builtin: Builtin | None = None
    campaigns: Sequence[tuple[Campaign, Context]] = field(default_factory=list)


Contexts = list[tuple[Campaign, Context]]


class Builtins:
    def __init__(self, host: Host) -> None:
        load_all()
        self.host = host

    def plan(
        self, event: Event, command: Command | None, contexts: Contexts, make: Callable[[str], Context]
    ) -> tuple[Contexts, Planned | None]:
        """The campaign contexts that may run (none when refused) and the built-in to run after them."""
        if command is None:
            if event.kind is EventKind.TIMER_FIRED and event.timer == ADMIN and event.data:
                return contexts, Planned("timer", make(ADMIN))
            return contexts, None
        if contexts:
            table = self.host.command_table.get(command.name, ())
            if not any(s.admin for _, s in table):  # the common case, decided without looking closer
                return contexts, None
            if not any(commands.admin_only([s for o, s in table if o.name == c.name], command) for c, _ in contexts):
                return contexts, None  # (per subcommand: /quiz top is for everyone, /quiz start for admins)
            ctx = make(ADMIN)
            if not ctx.is_admin:
                return [], Planned("refuse", ctx)
            return contexts, Planned("audit", ctx, campaigns=contexts)
        found = REGISTRY.get(command.name)
        if found is None:
            return self._rule_gate(event, command, contexts, make)
        ctx = make(ADMIN)
        if found.spec.admin and not ctx.is_admin:
            return [], Planned("refuse", ctx)
        return [], Planned("builtin", ctx, found)

    def _rule_gate(
        self, event: Event, command: Command, contexts: Contexts, make: Callable[[str], Context]
    ) -> tuple[Contexts, Planned | None]:
        """A command only ``admin_only`` keyword rules answer: non-admins get the refusal (the
        rules themselves stay silent for them, and audit what they do for admins)."""
        rules = [r for r in self.host.rules.rules if r.config.command == command.name]
        if not rules or not all(r.config.admin_only for r in rules) or not self.host.rules.wants(event):
            return contexts, None
        ctx = make(ADMIN)
        if ctx.is_admin or not any(r.refuses(ctx) for r in rules):
            return contexts, None
        return [], Planned("refuse", ctx)

    async def run(self, planned: Planned) -> list[Action]:
        ctx = planned.ctx
        if planned.kind == "refuse":
            ctx.reply(ctx.t("admin.only"))
        elif planned.kind == "timer":
            key = str(ctx.event.data.get("key", ""))
            handler = TIMERS.get(key.split(":", 1)[0])
            if handler is not None:
                await handler(ctx, self.host)
        elif planned.kind == "audit":
            said = [getattr(a, "content", a.kind) for _, c in planned.campaigns for a in c.actions]
            names = ", ".join(c.name for c, _ in planned.campaigns)
            await self._audit(ctx, "done", f"campaign {names}: " + (" | ".join(said) or "no reply"))
        elif planned.builtin is not None:
            await self._builtin(ctx, planned.builtin)
        return ctx.actions

    async def _builtin(self, ctx: Context, found: Builtin) -> None:
        try:
            effect, outcome = await found.run(ctx, self.host), "done"
        except Usage as err:
            ctx.reply(ctx.t("usage", usage=err.usage or found.spec.usage))
            effect, outcome = "bad arguments", "usage"
        except Rejected as err:
            ctx.reply(ctx.t(err.key, **err.values))
            effect, outcome = err.key, "rejected"
        if found.spec.admin:
            await self._audit(ctx, outcome, effect)

    async def _audit(self, ctx: Context, outcome: str, effect: str) -> None:
        command = ctx.command
        assert command is not None and ctx.member_key is not None
        await audit.record(
            ctx.conn,
            at=ctx.event.at,
            actor=ctx.member_key,
            chat=ctx.chat_key,
            command=command.name,
            args=command.raw_args,
            outcome=outcome,
            effect=effect,
            event_ref=ctx.event_ref,
        )


def in_group(ctx: Context) -> bool:
    chat = ctx.event.chat
    return chat is not None and chat.type == "group"


def is_bot_admin(ctx: Context, host: Host) -> bool:
    """One of ``[bot] admins`` (group admins' rights end at their group)."""
    return ctx.member_key in host.config.bot.admins


def specs_for(host: Host, ctx: Context) -> list[CommandSpec]:
    """Every command the caller may use in the context's chat now: the live campaigns', the
    keyword rules' (``command = ...``, in groups) and the built-ins. Admin commands are kept
    (``help_text`` shows them to admins only); those for ``[bot] admins`` only are dropped for
    everyone else."""
    event = ctx.event
    live = [s for c in host.campaigns if c.applies_to(event.chat_key) and c.active_at(event.at) for s in c.commands()]
    answered = {s.name for s in live}
    rules = [
        CommandSpec(r.config.command, r.config.description or "", f"/{r.config.command}", r.config.admin_only)
        for r in host.rules.rules
        if r.config.command and in_group(ctx) and (r.config.groups is None or ctx.chat_key in r.config.groups)
    ]
    builtins = [
        b.spec for name, b in REGISTRY.items() if name not in answered and (not b.bot_admin or is_bot_admin(ctx, host))
    ]
    return [*live, *builtins, *rules]  # on a clash of names the campaign's or built-in's line wins


def help_text(language: str, specs: Iterable[CommandSpec], is_admin: bool) -> str:
    """The ``/help`` answer: the members' commands, then (for admins only) the admins' ones.

    A spec's ``description`` is an i18n key; one that is no key (a keyword rule's own
    ``description``) is shown as written, and an empty one shows the usage alone.
    """
    unique = sorted({(s.name, s.usage): s for s in reversed(list(specs))}.values(), key=lambda s: (s.name, s.usage))
    members = [_help_line(language, s) for s in unique if not s.admin]
    lines = [i18n.t(language, "help.header"), *members]
    if is_admin:
        admins = [_help_line(language, s) for s in unique if s.admin]
        if admins:
            lines += [i18n.t(language, "help.admin_header"), *admins]
    return "\n".join(lines)


def _help_line(language: str, spec: CommandSpec) -> str:
    usage = spec.usage or f"/{spec.name}"
    key = spec.description
    if not key:
        return usage
    known = key in i18n.catalog(language) or key in i18n.catalog(i18n.DEFAULT_LANGUAGE)
    description = i18n.t(language, key) if known else key
    return i18n.t(language, "help.line", usage=usage, description=description)


@builtin("help", "cmd.help", private=True)
async def _help(ctx: Context, host: Host) -> str:
    ctx.reply(help_text(ctx.language, specs_for(host, ctx), ctx.is_admin))
    return ""
