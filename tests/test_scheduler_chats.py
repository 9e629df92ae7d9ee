"""Schedules follow the chats the bot is in: a chat that moved to a new id (Telegram's group →
supergroup re-key) or that the bot was removed from gets no more fires; re-adding resumes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update

from storage.models import Chat
from storage.rekey import rekey_chat
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
chats_t = Chat.__table__


def config(groups: str = "") -> str:
    return f"""
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.morning]
type = "announcement"
schedule = "0 9 * * *"
text = "Morning, {{group}}!"
{groups}
"""


async def add_chat(conv: Conversation, key: str, title: str) -> None:
    async with conv.db.begin() as conn:
        await conn.execute(
            insert(chats_t).values(key=key, platform="sandbox", title=title, active=True, created_at=START)
        )


async def set_active(conv: Conversation, key: str, active: bool) -> None:
    async with conv.db.begin() as conn:
        await conn.execute(update(chats_t).where(chats_t.c.key == key).values(active=active))


async def test_a_chat_that_moved_gets_its_announcement_once_under_the_new_id() -> None:
    conv = await Conversation.open(config(), START)
    try:
        await add_chat(conv, "sandbox:small", "Small group")
        assert sorted(await conv.advance(timedelta(hours=2))) == ["Morning, Group one!", "Morning, Small group!"]
        async with conv.db.begin() as conn:  # the group became a supergroup with a new id
            await rekey_chat(conn, "sandbox:small", "sandbox:super")
        posted = await conv.advance(timedelta(days=1))
        assert sorted(posted) == ["Morning, Group one!", "Morning, Small group!"]  # once, not twice
        chats = {a.chat for _, a in conv.adapter.performed[-2:]}  # type: ignore[union-attr]
        assert chats == {"sandbox:g1", "sandbox:super"}  # and no longer to the old id
    finally:
        await conv.close()


async def test_a_chat_the_bot_left_gets_no_fires_until_it_is_back() -> None:
    conv = await Conversation.open(config('groups = ["sandbox:g1", "sandbox:gone"]'), START)
    try:
        await add_chat(conv, "sandbox:gone", "Gone")
        assert sorted(await conv.advance(timedelta(hours=2))) == ["Morning, Gone!", "Morning, Group one!"]
        await set_active(conv, "sandbox:gone", False)  # the bot was removed
        assert await conv.advance(timedelta(days=1)) == ["Morning, Group one!"]
        await set_active(conv, "sandbox:gone", True)  # added back
        assert sorted(await conv.advance(timedelta(days=1))) == ["Morning, Gone!", "Morning, Group one!"]
    finally:
        await conv.close()
