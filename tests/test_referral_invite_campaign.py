"""Two referral campaigns in one group (one after the other: their commands may not overlap in
time): an invite made for one campaign (``Invite.campaign``, e.g. a WeCom join way of the
ended spring campaign that is still scanned) is never credited by the other; an invite naming
no campaign (a Telegram or Discord link) counts for whichever campaign is running."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.events import Invite
from storage.referral_models import Referral
from tests.harness import Conversation

START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.spring]
type = "referral"
qualify_after = "24h"
qualify_messages = 0
inviter_reward = { points = 50 }
ends = 2026-11-30T23:59:59+08:00
[campaigns.winter]
type = "referral"
qualify_after = "24h"
qualify_messages = 0
inviter_reward = { points = 7 }
starts = 2026-12-01T00:00:00+08:00
"""


async def referrals(chat: Conversation) -> set[tuple[str, str, str]]:
    t = Referral.__table__.c
    async with chat.db.connect() as conn:
        return {tuple(r) for r in await conn.execute(select(t.campaign, t.invitee, t.inviter))}  # type: ignore[misc]


async def test_an_invite_for_one_campaign_is_never_credited_by_another() -> None:
    chat = await Conversation.open(CONFIG, START)
    try:
        for_spring = Invite(code="hq3kd82m1ab", creator="sandbox:alice", via="qr", campaign="spring")
        await chat.deliver(replace(chat.event("join", "bob"), invite=for_spring))
        for_winter = Invite(code="hw8b1c0d2ef", creator="sandbox:erin", via="qr", campaign="winter")
        await chat.deliver(replace(chat.event("join", "fay"), invite=for_winter))
        anyone = Invite(code="link1", creator="sandbox:carol", via="link")
        await chat.deliver(replace(chat.event("join", "dave"), invite=anyone))
        assert await referrals(chat) == {
            ("winter", "sandbox:fay", "sandbox:erin"),
            ("winter", "sandbox:dave", "sandbox:carol"),
        }
        await chat.advance(timedelta(hours=25))
        assert await chat.points("alice") == 0  # spring has ended, and winter does not take its code
        assert await chat.points("erin") == 7
        assert await chat.points("carol") == 7
    finally:
        await chat.close()
