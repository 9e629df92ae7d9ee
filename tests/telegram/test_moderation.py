"""Mute, unmute and reactions go from the outbox through the real sender and aiogram to the fake
Bot API as the documented calls (restrictChatMember, setMessageReaction)."""

from __future__ import annotations

from adapters.base import Feature
from bot import actions as act
from bot import outbox
from tests.telegram import updates as u
from tests.telegram.conftest import Telegram

SUPER = u.supergroup()
CHAT = f"telegram:{SUPER['id']}"
ALICE = "telegram:111111111"


async def queue(app, *actions: act.Action) -> None:
    """Commit actions to the outbox, as the engine does for a campaign's actions."""
    async with app.db.begin() as conn:
        rows = [outbox.outbox_row(a, None, app.clock.now(), platform="telegram") for a in actions]
        await conn.execute(outbox.outbox_t.insert(), rows)
    app.sender.wake()


async def test_mute_then_unmute_restores_every_sending_permission(tg: Telegram) -> None:
    app = await tg.start()
    assert Feature.MUTE in app.adapters["telegram"].features
    await queue(app, act.MuteMember(CHAT, ALICE, seconds=600), act.UnmuteMember(CHAT, ALICE))
    await tg.fake.wait_for(lambda: len(tg.bot.sent("restrictChatMember")) == 2)
    mute, unmute = tg.bot.sent("restrictChatMember")
    assert mute["user_id"] == unmute["user_id"] == 111111111
    assert mute["permissions"]["can_send_messages"] is False and "until_date" in mute
    assert unmute["permissions"] and all(unmute["permissions"].values())  # every permission back
    assert "until_date" not in unmute
    await tg.stop(app)  # a stop lets the send in flight be marked
    assert await tg.outbox(app, "sent") == 2


async def test_a_reaction_is_set_on_the_message(tg: Telegram) -> None:
    app = await tg.start()
    assert Feature.REACTIONS in app.adapters["telegram"].features
    await queue(app, act.React(CHAT, "77", "🔥"))
    await tg.fake.wait_for(lambda: tg.bot.sent("setMessageReaction"))
    [call] = tg.bot.sent("setMessageReaction")
    assert call["chat_id"] == SUPER["id"] and call["message_id"] == 77
    assert call["reaction"] == [{"type": "emoji", "emoji": "🔥"}]
    await tg.stop(app)
    assert await tg.outbox(app, "sent") == 1
