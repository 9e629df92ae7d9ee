"""Choices offered to members: buttons where the platform has them, numbered text everywhere.

The one place where campaigns degrade buttons through the platform's capability flag
(``adapters.base.Feature.BUTTONS``, the string ``"buttons"`` in ``Context.features``; never a
platform's name). The options are always listed as numbered lines, so a member on a platform
without buttons (OneBot, WeCom, QQ without keyboards) sees the same choices; buttons are
added only where the platform has them; and a reply with the number ("2", "２") or the
option's exact text picks it on every platform, with or without buttons.

Quizzes and polls use :func:`numbered` and :func:`pick`; the welcome and its verification
gate use :func:`has_buttons` to choose between a button and a typed alternative
(``/agree``, the sum's answer).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.actions import Button, Buttons
from bot.context import Context
from campaigns.answer_match import choice_of

BUTTONS = "buttons"  # adapters.base.Feature.BUTTONS
LABEL = 40  # characters of a button label (Telegram shows about this many on a phone)


def has_buttons(ctx: Context) -> bool:
    """Whether the event's platform shows buttons under messages."""
    return BUTTONS in ctx.features


def numbered(ctx: Context, options: Sequence[str], line_key: str, data: str) -> tuple[list[str], Buttons]:
    """The options as numbered lines (template ``line_key`` with ``{number}`` and ``{text}``/
    ``{option}``), and one button per option (``{data}:{number}``) where the platform has them."""
    lines = [ctx.t(line_key, number=i, text=o, option=o) for i, o in enumerate(options, 1)]
    if not has_buttons(ctx):
        return lines, ()
    return lines, tuple((Button(f"{i}) {o}"[:LABEL], f"{data}:{i}"),) for i, o in enumerate(options, 1))


def pick(text: str, options: Sequence[str], fold_accents: bool = True) -> int | None:
    """The option a typed reply picks (0-based): its number, or its exact text; else None."""
    return choice_of(text, options, fold_accents)
