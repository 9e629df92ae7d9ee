"""Which invite a newcomer used: Discord does not say, so compare invite use counts.

Per guild the tracker keeps ``code → uses`` from ``GET /guilds/{id}/invites`` (on ready, and
kept current by ``INVITE_CREATE``/``INVITE_DELETE``; listing with use counts needs the Manage
Server permission). On a join it lists again and compares:

* ``exact``: one invite's count moved by one, for one join;
* ``approximate``: several moved, or several people joined at once; the invite that moved
  most (then the lowest code) is named, as a guess;
* ``unknown``: nothing moved (a vanity URL, Server Discovery, an expired one-use invite),
  or the bot may not list invites.

A one-use invite that vanished without an ``INVITE_DELETE`` counts as moved. The owner of an
invite is the member it was made for (per-member invites the bot created, looked up by the
caller) or else its creator.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.events import Confidence

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Known:
    code: str
    uses: int
    max_uses: int = 0
    channel: str | None = None
    inviter: str | None = None  # user id of whoever created it


@dataclass(frozen=True, slots=True)
class Attribution:
    confidence: Confidence
    invite: Known | None = None  # the invite named (for approximate: the best guess)
    via: str = "link"  # link, vanity, unknown


@dataclass(slots=True)
class GuildInvites:
    codes: dict[str, Known] = field(default_factory=dict)
    listed: bool = False  # False: never listed, or Discord refused (no Manage Server)
    vanity: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def known(invite: Mapping[str, Any]) -> Known:
    """An invite object (REST listing or ``INVITE_CREATE``) as the tracker keeps it."""
    channel = invite.get("channel_id") or (invite.get("channel") or {}).get("id")
    inviter = (invite.get("inviter") or {}).get("id")
    return Known(
        code=str(invite["code"]),
        uses=int(invite.get("uses") or 0),
        max_uses=int(invite.get("max_uses") or 0),
        channel=str(channel) if channel else None,
        inviter=str(inviter) if inviter else None,
    )


def diff(before: Mapping[str, Known], after: Mapping[str, Known], joins: int = 1) -> Attribution:
    """The attribution for ``joins`` people who joined between the two listings."""
    moved: list[tuple[int, Known]] = []
    for code, old in before.items():
        new = after.get(code)
        if new is not None and new.uses > old.uses:
            moved.append((new.uses - old.uses, new))
        elif new is None and old.max_uses and old.uses + 1 >= old.max_uses:
            moved.append((1, old))  # used up, hence deleted
    for code, new in after.items():
        if code not in before and new.uses > 0:
            moved.append((new.uses, new))  # made and used between two listings
    if not moved:
        return Attribution("unknown", None, "unknown")
    moved.sort(key=lambda m: (-m[0], m[1].code))
    delta, best = moved[0]
    exact = len(moved) == 1 and delta == 1 and joins == 1
    return Attribution("exact" if exact else "approximate", best)


Fetch = Callable[[str], Awaitable[Sequence[Mapping[str, Any]] | None]]  # None: not allowed


class InviteTracker:
    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self.guilds: dict[str, GuildInvites] = {}

    def _guild(self, guild: str) -> GuildInvites:
        return self.guilds.setdefault(guild, GuildInvites())

    async def load(self, guild: str, vanity: str | None = None) -> None:
        """Take the guild's current counts as the baseline (on ready and after a reconnect)."""
        g = self._guild(guild)
        async with g.lock:
            g.vanity = vanity
            await self._list(guild, g)

    async def _list(self, guild: str, g: GuildInvites) -> dict[str, Known] | None:
        try:
            listed = await self._fetch(guild)
        except Exception as err:  # network trouble: keep the old baseline, this join stays unknown
            log.warning("could not list the invites of guild %s: %s", guild, type(err).__name__)
            return None
        if listed is None:
            if g.listed or not g.codes:
                log.warning("no Manage Server permission in guild %s: joins cannot be attributed to invites", guild)
            g.listed, g.codes = False, {}
            return None
        codes = {k.code: k for k in map(known, listed)}
        g.listed, g.codes = True, codes
        return codes

    def created(self, d: Mapping[str, Any]) -> None:
        """``INVITE_CREATE``: a new invite starts at its uses (0)."""
        guild = str(d.get("guild_id") or "")
        if guild in self.guilds and d.get("code"):
            self.guilds[guild].codes[str(d["code"])] = known(d)

    def deleted(self, d: Mapping[str, Any]) -> None:
        """``INVITE_DELETE``: deleted by someone (or used up): no longer a candidate."""
        guild = str(d.get("guild_id") or "")
        if guild in self.guilds:
            self.guilds[guild].codes.pop(str(d.get("code")), None)

    def remember(self, guild: str, invite: Mapping[str, Any]) -> None:
        """An invite the bot just made (the gateway may tell later, or not at all)."""
        self.created({**invite, "guild_id": guild})

    async def attribute(self, guild: str, joins: int = 1) -> Attribution:
        """How the latest ``joins`` newcomers of ``guild`` came in (lists the invites again)."""
        g = self._guild(guild)
        async with g.lock:
            before = dict(g.codes)
            was_listed = g.listed
            after = await self._list(guild, g)
        if after is None or not was_listed:
            return Attribution("unknown", None, "unknown")
        found = diff(before, after, joins)
        if found.invite is None and g.vanity:
            return Attribution("unknown", Known(g.vanity, 0), "vanity")
        return found
