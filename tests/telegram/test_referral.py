"""A referral end to end on Telegram: fake Bot API over HTTP ↔ aiogram ↔ the real Hearth App.

Alice asks for her invite link (the bot creates it with ``createChatInviteLink``), Carol joins
through it (``chat_member`` with ``invite_link``) and writes, and a day later both get their
coupon by direct message — exactly once, although Hearth restarts twice on the way and
Telegram delivers the join and the message again after each restart. A member the bot cannot
message privately is told in the group, without the code, and gets it with ``/mycoupons``.
"""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import outbox
from bot.app import App
from bot.clock import ManualClock
from bot.config import parse
from storage import timers
from storage.models import LedgerEntry
from storage.referral_models import CouponCode, Referral
from tests.telegram import updates as u
from tests.telegram.conftest import BOT_ID, Telegram, eventually

SUPER = u.supergroup()
SUPER_ID = SUPER["id"]
ALICE = u.user(111111111, "Alice")
CAROL = u.user(333333333, "Carol")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REFERRAL = """
[scheduler]
tick = "1s"

[coupons.friend10]
generate = 20
prefix = "FRIEND-"
valid_for = "30d"

[coupons.welcome5]
generate = 20
prefix = "HELLO-"

[campaigns.bring_a_friend]
type = "referral"
qualify_after = "24h"
qualify_messages = 1
inviter_reward = { points = 50, coupon_pool = "friend10" }
invitee_reward = { coupon_pool = "welcome5" }
"""


class SteppedClock(ManualClock):
    """Time moves only when the test says so; loops waiting on it poll every 20 ms of real time."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(max(seconds, 0.0), 0.02))


def date(at: datetime) -> int:
    return int(at.timestamp())


async def started(tg: Telegram, clock: SteppedClock) -> App:
    config = parse(tg.config_text(extra=REFERRAL), "telegram-referral.toml")
    app = App(config, clock=clock)
    await app.start()
    tg.apps.append(app)
    return app


async def deliver(tg: Telegram, *updates: dict) -> None:
    """Push updates and wait until Hearth confirmed them (committed before the next getUpdates)."""
    ids = await tg.fake.push(tg.bot, *updates)
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > max(ids))


def coupons_sent(tg: Telegram, user: dict, prefix: str) -> list[str]:
    texts = [html.unescape(m["text"]) for m in tg.bot.sent(chat_id=user["id"])]
    return [code for t in texts for code in re.findall(rf"\b{prefix}[A-Z0-9]+(?:-[A-Z0-9]+)*", t)]


async def settled(app: App) -> None:
    """Nothing due is left: no timer, no message waiting to be sent."""

    async def idle() -> bool:
        async with app.db.connect() as conn:
            due = await timers.due_timers(conn, app.clock.now())
            pending = await outbox.due(conn, ["telegram"], app.clock.now())
        return not due and not pending

    await eventually(idle)


async def test_invite_link_join_and_both_coupons_exactly_once_across_restarts(tg: Telegram) -> None:
    tg.bot.admins[SUPER_ID] = [ALICE["id"], BOT_ID]  # the bot may invite, and gets chat_member updates
    clock = SteppedClock(T0)
    app = await started(tg, clock)

    # Alice asks for her link: the bot creates a per-member link and answers in the group.
    await deliver(tg, u.message(SUPER, ALICE, "/invite", date=date(T0)))
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER_ID))
    [created] = tg.bot.sent("createChatInviteLink")
    assert created["chat_id"] == SUPER_ID and created["name"].endswith(f"ref:{ALICE['id']}")
    [answer] = [html.unescape(m["text"]) for m in tg.bot.sent(chat_id=SUPER_ID)]
    link = re.search(r"https://t\.me/\+\w+", answer).group(0)  # type: ignore[union-attr]
    assert answer.startswith(f"Alice, your personal invite to Coffee & Tea: {link}")

    # Carol joins through it (Telegram: the service message and chat_member) and says hello.
    joined = T0 + timedelta(minutes=5)
    link_object = {
        "invite_link": link,
        "creator": tg.bot.user,
        "creates_join_request": False,
        "is_primary": False,
        "is_revoked": False,
        "name": created["name"],
    }
    join_updates = u.joined_by_link(SUPER, CAROL, link_object, date=date(joined))
    hello = u.message(SUPER, CAROL, "Hello everyone!", date=date(joined + timedelta(minutes=1)))
    clock.set(joined + timedelta(minutes=1))
    await deliver(tg, *join_updates)
    await deliver(tg, hello)
    await settled(app)
    assert coupons_sent(tg, ALICE, "FRIEND-") == [] and coupons_sent(tg, CAROL, "HELLO-") == []  # not yet

    # Hearth restarts before the day is over; Telegram delivers the join and the message again.
    await tg.stop(app)
    app = await started(tg, clock)
    await deliver(tg, *join_updates)
    await deliver(tg, hello)
    clock.set(joined + timedelta(hours=24, minutes=1))  # the scheduler checks: Carol stayed and wrote
    await tg.fake.wait_for(lambda: coupons_sent(tg, ALICE, "FRIEND-") and coupons_sent(tg, CAROL, "HELLO-"), within=30)
    await settled(app)
    [alice_code] = coupons_sent(tg, ALICE, "FRIEND-")
    [carol_code] = coupons_sent(tg, CAROL, "HELLO-")
    group = [html.unescape(m["text"]) for m in tg.bot.sent(chat_id=SUPER_ID)]
    assert "🎉 Carol joined through Alice's invite and is staying — thank you both!\n+50 points for Alice." in group
    assert not any(alice_code in t or carol_code in t for t in group)  # codes go by DM only

    # Another restart, another redelivery, days later: nothing is paid twice.
    await tg.stop(app)
    clock.set(joined + timedelta(days=3))
    app = await started(tg, clock)
    await deliver(tg, *join_updates)
    await deliver(tg, hello)
    await settled(app)
    assert coupons_sent(tg, ALICE, "FRIEND-") == [alice_code]
    assert coupons_sent(tg, CAROL, "HELLO-") == [carol_code]
    c, r, ledger = CouponCode.__table__.c, Referral.__table__.c, LedgerEntry.__table__.c
    async with app.db.connect() as conn:
        given = (await conn.execute(select(c.code, c.member_key).where(c.member_key.is_not(None)))).all()
        referrals = (await conn.execute(select(r.inviter, r.invitee, r.status))).all()
        points = (await conn.execute(select(ledger.member_key, ledger.points))).all()
    assert sorted(map(tuple, given)) == sorted(
        [(alice_code, f"telegram:{ALICE['id']}"), (carol_code, f"telegram:{CAROL['id']}")]
    )
    assert [tuple(x) for x in referrals] == [(f"telegram:{ALICE['id']}", f"telegram:{CAROL['id']}", "qualified")]
    assert [tuple(x) for x in points] == [(f"telegram:{ALICE['id']}", 50)]


async def test_a_member_the_bot_cannot_message_is_told_in_the_group_without_the_code(tg: Telegram) -> None:
    tg.bot.admins[SUPER_ID] = [ALICE["id"], BOT_ID]
    tg.bot.kicked.add(CAROL["id"])  # Telegram answers 403 to a DM: Carol has blocked the bot
    clock = SteppedClock(T0)
    app = await started(tg, clock)
    await deliver(tg, u.message(SUPER, ALICE, "/invite", date=date(T0)))
    await tg.fake.wait_for(lambda: tg.bot.sent("createChatInviteLink") and tg.bot.sent(chat_id=SUPER_ID))
    [created] = tg.bot.sent("createChatInviteLink")
    link = re.search(r"https://t\.me/\+\w+", html.unescape(tg.bot.sent(chat_id=SUPER_ID)[0]["text"])).group(0)  # type: ignore[union-attr]
    link_object = {"invite_link": link, "creator": tg.bot.user, "creates_join_request": False}
    link_object |= {"is_primary": False, "is_revoked": False, "name": created["name"]}
    joined = T0 + timedelta(minutes=5)
    clock.set(joined)
    await deliver(tg, *u.joined_by_link(SUPER, CAROL, link_object, date=date(joined)))
    await deliver(tg, u.message(SUPER, CAROL, "Hi!", date=date(joined)))
    clock.set(joined + timedelta(hours=24, minutes=1))
    notice = "🎁 Carol, you have a coupon waiting! Coupon codes are private: open a chat with me and send /mycoupons."
    await tg.fake.wait_for(lambda: notice in [html.unescape(m["text"]) for m in tg.bot.sent(chat_id=SUPER_ID)])
    await settled(app)
    [alice_code] = coupons_sent(tg, ALICE, "FRIEND-")  # Alice can be reached: hers came by DM
    group = [html.unescape(m["text"]) for m in tg.bot.sent(chat_id=SUPER_ID)]
    assert not any("HELLO-" in t for t in group)  # the notice never shows Carol's code
    assert len(tg.bot.attempts("sendMessage")) > len(tg.bot.sent())  # the refused DM was tried once

    tg.bot.kicked.discard(CAROL["id"])  # Carol unblocks the bot (Telegram reports it) and asks
    private = {"id": CAROL["id"], "type": "private", "first_name": "Carol"}
    await deliver(tg, u.bot_status(private, tg.bot.user, CAROL, "kicked", "member"))
    await deliver(tg, u.message(private, CAROL, "/mycoupons", date=date(clock.now())))
    await tg.fake.wait_for(lambda: coupons_sent(tg, CAROL, "HELLO-"))
    [carol_code] = coupons_sent(tg, CAROL, "HELLO-")
    assert carol_code != alice_code
