"""The optional gate before the welcome: accept the rules, or answer a small sum, while muted.

A newcomer is muted on joining (``MuteMember``; platforms that cannot restrict refuse it
and the outbox records the failure) and named in the next batched challenge message. They
pass with its button, or — where they can still type — by sending the answer (challenge) or
``/agree`` (rules); passing unmutes them and queues them for the welcome. Without a pass
within ``timeout`` they fail: ``on_timeout = "kick"`` removes them **only if the platform
confirmed the mute** (its outbox row is ``sent``). A member the bot could not restrict was
never told they were gated by a working restriction, so a failed or still-pending mute never
leads to a kick; they are only marked failed (and not welcomed). ``"keep"`` leaves them muted.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from bot.actions import AnswerButton, Button, Buttons, KickMember, MuteMember, UnmuteMember
from bot.config_types import Duration, Language, Strict, at_least, template_checker
from bot.context import Context
from bot.i18n import render
from campaigns.choices import has_buttons
from storage import welcome as store

PLACEHOLDERS = frozenset({"name", "group", "minutes", "question"})
MUTE, KICK = "mute", "kick"  # the platform features (adapters.base.Feature) used here
Template = Annotated[str, Field(min_length=1, max_length=4000), template_checker(PLACEHOLDERS)]


class VerifyConfig(Strict):
    mode: Literal["rules", "challenge"] = "rules"
    timeout: Annotated[Duration, at_least(timedelta(seconds=30))] = timedelta(minutes=5)
    on_timeout: Literal["kick", "keep"] = "kick"
    attempts: int = Field(default=3, ge=1, le=10)  # wrong challenge answers allowed
    text: Template | None = None  # the challenge message; default from the locale
    texts: dict[Language, Template] = {}
    delete_after: Duration | None = None  # default: the timeout


def challenge(seed: str) -> tuple[str, str, list[str]]:
    """(question, answer, four options in random order) for a batch, reproducible from ``seed``."""
    rng = random.Random(seed)
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    answer = a + b
    options = {answer}
    while len(options) < 4:
        options.add(rng.randint(4, 18))
    shuffled = sorted(options)
    rng.shuffle(shuffled)
    return f"{a} + {b}", str(answer), [str(o) for o in shuffled]


def typed_number(text: str) -> str | None:
    """The number a message consists of (full-width digits too), or None."""
    value = unicodedata.normalize("NFKC", text).strip()
    return value if value.isdecimal() and len(value) <= 3 else None


class Gate:
    """The gate of one welcome campaign."""

    def __init__(self, campaign: str, config: VerifyConfig, data: str) -> None:
        self.campaign = campaign
        self.config = config
        self.data = data  # button data prefix

    async def on_join(self, ctx: Context, name: str) -> None:
        """Mute the newcomer and arm the timeout; the join's event names the mute in the outbox."""
        assert ctx.chat_key and ctx.member_key
        key = f"verify:{ctx.event_ref}"
        await store.save_newcomer(
            ctx.conn,
            campaign=self.campaign,
            chat=ctx.chat_key,
            member=ctx.member_key,
            name=name,
            status="pending",
            joined_at=ctx.event.at,
            join_ref=ctx.event_ref,
            timer=key,
        )
        if MUTE in ctx.features:
            ctx.emit(MuteMember(ctx.chat_key, ctx.member_key))
        await ctx.set_timer(key, ctx.event.at + self.config.timeout, {"op": "verify"})

    def message(self, ctx: Context, names: str, group: str, batch: str) -> tuple[str, Buttons, str | None]:
        """The challenge text, its buttons, and the answer (None for the rules mode)."""
        minutes = max(1, round(self.config.timeout.total_seconds() / 60))
        template = self.config.texts.get(ctx.language, self.config.text)  # type: ignore[call-overload]
        values = {"name": names, "group": group, "minutes": minutes, "question": ""}
        typed = "" if has_buttons(ctx) else "_typed"  # without buttons: say what to type instead
        if self.config.mode == "rules":
            text = ctx.t(f"welcome.verify.rules{typed}", name=names, group=group, minutes=minutes)
            buttons: Buttons = ((Button(ctx.t("welcome.button.agree"), data=f"{self.data}:ack"),),)
            answer = None
        else:
            question, answer, options = challenge(batch)
            values["question"] = question
            text = ctx.t(
                f"welcome.verify.challenge{typed}", name=names, group=group, minutes=minutes, question=question
            )
            buttons = (tuple(Button(o, data=f"{self.data}:c:{o}") for o in options),)
        if template:
            text = render(template, values)
        return text, buttons if has_buttons(ctx) else (), answer

    @property
    def delete_after(self) -> float:
        return (self.config.delete_after or self.config.timeout).total_seconds()

    async def try_pass(self, ctx: Context, given: str | None) -> tuple[str, int] | None:
        """Check an answer from ``ctx``'s member (``None``: the rules button or ``/agree``).

        Returns the i18n key of the outcome (``welcome.verify.passed`` when they passed) and
        the attempts left, or None when the member is not waiting for verification here.
        """
        assert ctx.chat_key and ctx.member_key
        who = await store.newcomer(ctx.conn, self.campaign, ctx.chat_key, ctx.member_key)
        if who is None or who.status != "pending":
            return None
        if self.config.mode == "challenge":
            left = self.config.attempts - who.attempts
            if who.answer is None:
                return "welcome.verify.wait", left
            if left <= 0:
                return "welcome.verify.no_more", 0
            if given != who.answer:
                await store.update_newcomer(
                    ctx.conn, self.campaign, ctx.chat_key, ctx.member_key, attempts=who.attempts + 1
                )
                return ("welcome.verify.wrong" if left > 1 else "welcome.verify.no_more"), left - 1
        elif given is not None:
            return None
        await store.update_newcomer(ctx.conn, self.campaign, ctx.chat_key, ctx.member_key, status="passed", timer=None)
        if who.timer:
            await ctx.cancel_timer(who.timer)
        if MUTE in ctx.features:
            ctx.emit(UnmuteMember(ctx.chat_key, ctx.member_key))
        return "welcome.verify.passed", 0

    def answer_button(self, ctx: Context, outcome: tuple[str, int] | None) -> None:
        """Tell the member who pressed a gate button how it went (a short notice, not a chat message)."""
        if ctx.event.callback_id:
            key, left = outcome or ("welcome.verify.not_for_you", 0)
            ctx.emit(AnswerButton(ctx.event.callback_id, ctx.t(key, left=left), alert=key != "welcome.verify.passed"))

    async def on_timeout(self, ctx: Context, member: str, key: str) -> None:
        """The timeout of one join: fail the member if still pending; kick only after a confirmed mute."""
        assert ctx.chat_key
        who = await store.newcomer(ctx.conn, self.campaign, ctx.chat_key, member)
        if who is None or who.status != "pending" or who.timer != key:
            return
        await store.dequeue(ctx.conn, self.campaign, ctx.chat_key, member)
        kick = (
            self.config.on_timeout == "kick"
            and KICK in ctx.features
            and await store.mute_confirmed(ctx.conn, who.join_ref, ctx.chat_key, member)
        )
        await store.update_newcomer(
            ctx.conn, self.campaign, ctx.chat_key, member, status="kicked" if kick else "failed", timer=None
        )
        if kick:
            ctx.emit(KickMember(ctx.chat_key, member))
