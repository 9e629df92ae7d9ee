"""Command parsing (once, in the engine) and the built-in ``/help``.

``/checkin``, ``/checkin@HearthBot`` (adapters drop commands addressed to other bots) and
configured text aliases such as ``签到`` all become a :class:`bot.events.Command`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.events import Command, Event, EventKind
from campaigns.base import Campaign, CommandSpec

_COMMAND = re.compile(r"^[/／]([A-Za-z][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)
MAX_ARGS_LENGTH = 1000


def normalize_alias(text: str) -> str:
    """How alias texts are compared: NFKC, case-folded, outer whitespace dropped."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def parse(event: Event, aliases: dict[str, str]) -> Command | None:
    """The command an event carries, or None. Edited messages never count."""
    if event.kind not in (EventKind.MESSAGE_CREATED, EventKind.COMMAND_INVOKED) or event.edited:
        return None
    text = event.text.strip()
    if not text:
        return None
    m = _COMMAND.match(text)
    if m:
        raw = (m.group(2) or "").strip()[:MAX_ARGS_LENGTH]
        return Command(m.group(1).lower(), tuple(raw.split()), raw)
    target = aliases.get(normalize_alias(text))
    if target is not None:
        return Command(target, (), "", alias=True)
    return None


def admin_only(specs: Iterable[CommandSpec], command: Command) -> bool:
    """Whether this use of a command is for admins: the specs naming its first argument as a
    subcommand decide (``/quiz start`` vs ``/quiz top``), else those without subcommands."""
    first = command.args[0].lower() if command.args else None
    specs = [s for s in specs if s.name == command.name]
    chosen = [s for s in specs if first is not None and first in s.subcommands]
    chosen = chosen or [s for s in specs if not s.subcommands]
    return bool(chosen) and all(s.admin for s in chosen)


def command_table(campaigns: Iterable[Campaign]) -> dict[str, list[tuple[Campaign, CommandSpec]]]:
    """Command name -> the campaigns that answer it (with their spec)."""
    table: dict[str, list[tuple[Campaign, CommandSpec]]] = {}
    for campaign in campaigns:
        for spec in campaign.commands():
            table.setdefault(spec.name, []).append((campaign, spec))
    return table
