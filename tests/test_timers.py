"""One-off timers: a campaign asks to be woken later; the fire arrives exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.events import EventKind
from campaigns.base import Campaign, CampaignConfig, CommandSpec, register
from tests.harness import Conversation

UTC = ZoneInfo("UTC")


class RemindConfig(CampaignConfig):
    type: Literal["test_remind"]


@register
class RemindCampaign(Campaign):
    """``/remind`` → "time is up, NAME" one hour later; ``/forget`` cancels it."""

    type = "test_remind"
    config_model = RemindConfig

    def commands(self) -> list[CommandSpec]:
        return [CommandSpec("remind", "cmd.help"), CommandSpec("forget", "cmd.help")]

    async def handle(self, ctx: Context) -> None:
        if ctx.event.kind is EventKind.TIMER_FIRED:
            ctx.reply(f"time is up, {ctx.event.data['who']} ({ctx.event.data['member']})")
        elif ctx.command and ctx.command.name == "remind":
            await ctx.set_timer(f"remind:{ctx.member_key}", ctx.event.at + timedelta(hours=1), {"who": ctx.member_name})
            ctx.reply("ok")
        elif ctx.command and ctx.command.name == "forget":
            await ctx.cancel_timer(f"remind:{ctx.member_key}")


CONFIG = """
[platforms.sandbox]
[campaigns.remind]
type = "test_remind"
"""


async def test_timer_fires_once_after_its_delay_even_when_set_twice() -> None:
    conv = await Conversation.open(CONFIG, datetime(2026, 5, 1, 12, tzinfo=UTC))
    try:
        assert await conv.say("alice", "/remind") == ["ok"]
        assert await conv.say("alice", "/remind") == ["ok"]  # same key: still one timer
        assert await conv.advance(timedelta(minutes=59)) == []
        assert await conv.advance(timedelta(minutes=2)) == ["time is up, alice (sandbox:alice)"]
        assert await conv.advance(timedelta(days=1)) == []
    finally:
        await conv.close()


async def test_cancelled_timer_never_fires() -> None:
    conv = await Conversation.open(CONFIG, datetime(2026, 5, 1, 12, tzinfo=UTC))
    try:
        await conv.say("bob", "/remind")
        await conv.say("bob", "/forget")
        assert await conv.advance(timedelta(hours=3)) == []
    finally:
        await conv.close()
