"""One failing campaign never takes the rest of a batch down, and fails exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import actions as act
from bot.context import Context
from campaigns.base import REGISTRY, Campaign, CampaignConfig, CommandSpec, register
from storage.models import ProcessedEvent
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.daily]
type = "checkin"
aliases = ["签到"]
points = 10
[campaigns.trap]
type = "test_tripwire"
"""
APOLOGY = "Sorry, something went wrong on our side. Please try again later."


class TripwireConfig(CampaignConfig):
    type: Literal["test_tripwire"]


class TripwireCampaign(Campaign):
    """``/boom`` awards points, replies, then fails like a buggy campaign would."""

    type = "test_tripwire"
    config_model = TripwireConfig

    def commands(self) -> list[CommandSpec]:
        return [CommandSpec("boom", "cmd.help", "/boom")]

    async def handle(self, ctx: Context) -> None:
        if ctx.command and ctx.command.name == "boom":
            await ctx.award(100, "loot")
            ctx.reply("you never see this")
            raise RuntimeError("tripwire at /srv/hearth/secret.py, token=123:ABC")


@pytest.fixture
async def chat():
    register(TripwireCampaign)
    conv = await Conversation.open(CONFIG, datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI))
    yield conv
    await conv.close()
    REGISTRY.pop(TripwireCampaign.type, None)


async def processed(conv: Conversation) -> dict[str, str | None]:
    c = ProcessedEvent.__table__.c
    async with conv.db.connect() as conn:
        return {event_id: error for event_id, error in await conn.execute(select(c.event_id, c.error))}


def texts(actions: list[act.Action]) -> dict[str, str]:
    return {a.reply_to or "": a.content for a in actions if isinstance(a, act.SendMessage)}


async def test_a_failing_event_does_not_spoil_its_batch(chat: Conversation) -> None:
    alice = chat.event("say", "alice", text="/checkin")
    bob = chat.event("say", "bob", text="/boom")
    carol = chat.event("say", "carol", text="签到")
    replies = texts(await chat.deliver(alice, bob, carol))
    assert "alice checked in" in replies[alice.message_id]  # type: ignore[index]
    assert "carol checked in" in replies[carol.message_id]  # type: ignore[index]
    assert replies[bob.message_id] == APOLOGY  # type: ignore[index]
    assert [(m, p, r) for m, p, r in await chat.ledger()] == [
        ("sandbox:alice", 10, "checkin"),
        ("sandbox:carol", 10, "checkin"),
    ]  # bob's 100 "loot" points were rolled back with his event
    assert await processed(chat) == {alice.id: None, bob.id: "handler failed", carol.id: None}


async def test_the_apology_leaks_nothing(chat: Conversation) -> None:
    [reply] = await chat.say("bob", "/boom")
    assert reply == APOLOGY
    assert "tripwire" not in reply and "Traceback" not in reply and "token" not in reply


async def test_redelivering_the_failed_batch_changes_nothing(chat: Conversation) -> None:
    batch = [
        chat.event("say", "alice", text="/checkin"),
        chat.event("say", "bob", text="/boom"),
        chat.event("say", "carol", text="/checkin"),
    ]
    await chat.deliver(*batch)
    ledger, done = await chat.ledger(), await processed(chat)
    assert await chat.deliver(*batch) == []
    assert await chat.deliver(batch[1]) == []
    assert await chat.deliver(batch[1], batch[1]) == []
    assert await chat.ledger() == ledger
    assert await processed(chat) == done


async def test_the_member_is_not_stuck_after_a_failure(chat: Conversation) -> None:
    await chat.say("bob", "/boom")
    [reply] = await chat.say("bob", "/checkin")
    assert "bob checked in" in reply
    assert await chat.points("bob") == 10
