"""Onboarding: a few direct messages over a newcomer's first days, only for those who ask.

A member opts in with the welcome's button or ``/onboarding on`` in the group, and out with
``/onboarding off`` (in the group, or privately: then for every group). Step ``day = 0`` is
sent at once, each later step ``day`` days after the opt-in, through one-off timers. Leaving
the group or opting out cancels the next timer; each fire re-checks both, so a step is
never sent to someone who left. Opting in again resumes with the next unsent step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from bot.actions import SendDirect
from bot.config_types import Language, Strict, template_checker
from bot.context import Context
from bot.i18n import render
from storage import welcome as store

PLACEHOLDERS = frozenset({"name", "group"})
DIRECT_MESSAGES = "direct_messages"  # the platform feature (adapters.base.Feature) the steps need
Template = Annotated[str, Field(min_length=1, max_length=4000), template_checker(PLACEHOLDERS)]


class OnboardingStep(Strict):
    day: int = Field(ge=0, le=365)  # days after the opt-in
    text: Template
    texts: dict[Language, Template] = {}


class Onboarding:
    """The onboarding sequence of one welcome campaign."""

    def __init__(self, campaign: str, steps: list[OnboardingStep]) -> None:
        self.campaign = campaign
        self.steps = steps

    def _key(self, chat: str, member: str, generation: int, step: int) -> str:
        return f"onboarding:{chat}:{member}:{generation}:{step}"

    async def opt_in(self, ctx: Context, chat: str, member: str, name: str, group: str) -> str:
        """Start (or resume) the sequence; returns the i18n key of the answer to the member."""
        if DIRECT_MESSAGES not in ctx.features:
            return "welcome.onboarding.no_dm"
        state = await store.onboarding(ctx.conn, self.campaign, chat, member)
        if state is not None and state.active:
            return "welcome.onboarding.already"
        step = state.step if state else 0
        if step >= len(self.steps):
            return "welcome.onboarding.finished"
        generation = (state.generation if state else 0) + 1
        if step == 0 and self.steps[0].day == 0:
            self._send(ctx, member, 0, name, group)
            step = 1
        active = step < len(self.steps)
        await store.save_onboarding(
            ctx.conn, self.campaign, chat, member, active=active, step=step, generation=generation, at=ctx.event.at
        )
        if step < len(self.steps):
            gap = self.steps[step].day - (self.steps[step - 1].day if step > 0 else 0)
            await self._arm(ctx, chat, member, generation, step, timedelta(days=gap), name, group)
        return "welcome.onboarding.on"

    async def opt_out(self, ctx: Context, chat: str, member: str) -> bool:
        """Stop the sequence in ``chat``; False if it was not running."""
        state = await store.onboarding(ctx.conn, self.campaign, chat, member)
        if state is None or not state.active:
            return False
        await ctx.cancel_timer(self._key(chat, member, state.generation, state.step))
        await store.save_onboarding(
            ctx.conn,
            self.campaign,
            chat,
            member,
            active=False,
            step=state.step,
            generation=state.generation,
            at=ctx.event.at,
        )
        return True

    async def opt_out_everywhere(self, ctx: Context, member: str) -> int:
        stopped = 0
        for state in await store.onboardings_of(ctx.conn, self.campaign, member):
            stopped += await self.opt_out(ctx, state.chat, member)
        return stopped

    async def on_timer(self, ctx: Context, data: dict) -> None:
        """Send the step a timer was set for, if the member still wants it and is still here."""
        chat, member = ctx.chat_key, str(data.get("member") or "")
        generation, step = int(data["generation"]), int(data["step"])
        if chat is None or not member:
            return
        state = await store.onboarding(ctx.conn, self.campaign, chat, member)
        if state is None or not state.active or state.generation != generation or state.step != step:
            return
        if not await store.is_member(ctx.conn, chat, member):
            await self.opt_out(ctx, chat, member)
            return
        name, group = str(data.get("name", "")), str(data.get("group", ""))
        self._send(ctx, member, step, name, group)
        step += 1
        active = step < len(self.steps)  # the last step ends the sequence
        await store.save_onboarding(
            ctx.conn, self.campaign, chat, member, active=active, step=step, generation=generation, at=ctx.event.at
        )
        if step < len(self.steps):
            gap = timedelta(days=self.steps[step].day - self.steps[step - 1].day)
            await self._arm(ctx, chat, member, generation, step, gap, name, group)

    async def _arm(
        self, ctx: Context, chat: str, member: str, generation: int, step: int, gap: timedelta, name: str, group: str
    ) -> None:
        data = {"op": "onboarding", "generation": generation, "step": step, "name": name, "group": group}
        await ctx.set_timer(self._key(chat, member, generation, step), ctx.event.at + gap, data, member=member)

    def _send(self, ctx: Context, member: str, step: int, name: str, group: str) -> None:
        spec = self.steps[step]
        template = spec.texts.get(ctx.language, spec.text)  # type: ignore[call-overload]
        ctx.emit(SendDirect(member, render(template, {"name": name, "group": group})))
