"""Arguments of admin commands, with members named by a mention or by ``@name``.

A platform mention (a :class:`bot.events.Mention` element) names its member exactly, even
when the display name has spaces. Typed ``@name`` (or a bare user id) is looked up among
the chat's members by name, case-insensitively, and must name exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.builtins import Rejected
from bot.context import Context
from bot.events import Mention, Text, key, split_key
from storage import members


@dataclass(frozen=True, slots=True)
class Ref:
    """A member the message mentioned through the platform."""

    key: str
    name: str


Token = str | Ref


def tokens(ctx: Context) -> list[Token]:
    """The words after the command word; platform mentions become :class:`Ref`."""
    out: list[Token] = []
    platform = ctx.event.platform
    for element in ctx.event.message:
        if isinstance(element, Text):
            out.extend(element.text.split())
        elif isinstance(element, Mention):
            out.append(Ref(key(platform, element.user_id), element.name or element.user_id))
    return out[1:] if out and isinstance(out[0], str) and out[0].startswith(("/", "／")) else out


def words(items: list[Token]) -> str:
    return " ".join(t if isinstance(t, str) else f"@{t.name}" for t in items)


async def resolve(ctx: Context, token: Token) -> tuple[str, str]:
    """(member key, display name) for a member token; :class:`Rejected` when none or several match."""
    if isinstance(token, Ref):
        return token.key, await members.name_of(ctx.conn, token.key) or token.name
    assert ctx.chat_key is not None
    text = token.removeprefix("@").strip()
    if not text:
        raise Rejected("admin.member.unknown", who=token)
    platform = split_key(ctx.chat_key)[0]
    found = await members.find(ctx.conn, ctx.chat_key, platform, text)
    if not found:
        raise Rejected("admin.member.unknown", who=token)
    exact = [f for f in found if f[0] == key(platform, text)]
    if len(found) > 1 and len(exact) != 1:
        raise Rejected("admin.member.ambiguous", who=token)
    member, name = (exact or found)[0]
    return member, name or text
