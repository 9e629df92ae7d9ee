"""``storage.rekey.rekey_chat``: a group upgraded to a supergroup keeps all its data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from bot import actions as act
from bot.outbox import outbox_row
from storage import db as storage_db
from storage.models import Chat, Checkin, LedgerEntry, Membership, OutboxMessage, ScheduleFire
from storage.rekey import rekey_chat

OLD, NEW = "telegram:-4001234567", "telegram:-1009876543210"
T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 8, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path):
    engine = storage_db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'rekey.db'}")
    await storage_db.upgrade(engine)
    yield engine
    await engine.dispose()


def membership(chat: str, member: str, **kw) -> dict:
    row = dict(
        chat_key=chat,
        member_key=member,
        active=True,
        joined_at=None,
        left_at=None,
        last_seen_at=T0,
        messages=0,
        invite_code=None,
        invited_by=None,
        invite_confidence=None,
    )
    row.update(kw)
    return row


async def seed(engine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(Chat.__table__), [dict(key=OLD, platform="telegram", title="Small", active=True, created_at=T0)]
        )
        await conn.execute(
            insert(Membership.__table__),
            [
                membership(
                    OLD,
                    "telegram:1",
                    joined_at=T0,
                    messages=5,
                    invite_code="https://t.me/+a",
                    invited_by="telegram:9",
                    invite_confidence="exact",
                ),
                membership(OLD, "telegram:2", messages=2),
                membership(NEW, "telegram:1", last_seen_at=T1, messages=1),  # spoke in the supergroup first
            ],
        )
        await conn.execute(
            insert(Checkin.__table__),
            [
                dict(
                    campaign="daily",
                    chat_key=OLD,
                    member_key="telegram:1",
                    day=date(2026, 3, 1),
                    at=T0,
                    streak=1,
                    event_ref="e1",
                ),
                dict(
                    campaign="daily",
                    chat_key=OLD,
                    member_key="telegram:2",
                    day=date(2026, 3, 2),
                    at=T1,
                    streak=1,
                    event_ref="e2",
                ),
                dict(
                    campaign="daily",
                    chat_key=NEW,
                    member_key="telegram:2",
                    day=date(2026, 3, 2),
                    at=T1,
                    streak=1,
                    event_ref="e3",
                ),
            ],
        )
        await conn.execute(
            insert(LedgerEntry.__table__),
            [
                dict(
                    member_key="telegram:1",
                    chat_key=OLD,
                    campaign="daily",
                    points=10,
                    reason="checkin",
                    event_ref="e1",
                    at=T0,
                ),
            ],
        )
        await conn.execute(
            insert(ScheduleFire.__table__),
            [
                dict(campaign="news", chat_key=OLD, fire_time=T0, status="fired", recorded_at=T0),
            ],
        )
        await conn.execute(
            insert(OutboxMessage.__table__),
            [
                outbox_row(act.SendMessage(OLD, "pending reply", reply_to="77"), None, T0, platform="telegram"),
                outbox_row(act.SendDirect("telegram:1", "a DM"), None, T0, platform="telegram"),
            ],
        )


async def rows(engine, table, *cols):
    async with engine.connect() as conn:
        return [
            tuple(r)
            for r in await conn.execute(select(*[table.c[c] for c in cols]).order_by(*[table.c[c] for c in cols]))
        ]


async def test_every_table_moves_to_the_new_key_and_clashes_merge_or_stay(db) -> None:
    await seed(db)
    async with db.begin() as conn:
        moved = await rekey_chat(conn, OLD, NEW)
    assert await rows(db, Chat.__table__, "key", "title", "active") == [(NEW, "Small", True)]
    m = Membership.__table__
    merged = await rows(db, m, "chat_key", "member_key", "messages", "joined_at", "last_seen_at", "invited_by")
    assert merged == [
        (NEW, "telegram:1", 6, T0, T1, "telegram:9"),  # merged: counts added, original invite kept
        (NEW, "telegram:2", 2, None, T0, None),
    ]
    assert await rows(db, LedgerEntry.__table__, "chat_key", "points") == [(NEW, 10)]
    assert await rows(db, ScheduleFire.__table__, "chat_key", "campaign") == [(NEW, "news")]
    # the same member checked in on the same day in both: the supergroup's row is kept, the old one stays put
    assert await rows(db, Checkin.__table__, "chat_key", "member_key", "event_ref") == [
        (NEW, "telegram:1", "e1"),
        (NEW, "telegram:2", "e3"),
        (OLD, "telegram:2", "e2"),
    ]
    assert moved["checkins.kept"] == 1
    outbox = await rows(db, OutboxMessage.__table__, "id", "target", "payload")
    assert outbox[0][1] == NEW and outbox[0][2]["chat"] == NEW and outbox[0][2]["content"] == "pending reply"
    assert outbox[1][1] == "telegram:1"  # a direct message is not a chat's


async def test_rekeying_twice_changes_nothing_more(db) -> None:
    await seed(db)
    async with db.begin() as conn:
        await rekey_chat(conn, OLD, NEW)
    before = await rows(db, Membership.__table__, "chat_key", "member_key", "messages")
    async with db.begin() as conn:
        again = await rekey_chat(conn, OLD, NEW)
    assert await rows(db, Membership.__table__, "chat_key", "member_key", "messages") == before
    assert again["memberships"] == 0 and again["outbox"] == 0 and again["ledger"] == 0


async def test_when_the_new_chat_exists_the_old_row_is_kept_inactive(db) -> None:
    await seed(db)
    async with db.begin() as conn:
        await conn.execute(
            insert(Chat.__table__),
            [dict(key=NEW, platform="telegram", title="Small (super)", active=True, created_at=T1)],
        )
        await rekey_chat(conn, OLD, NEW)
    assert await rows(db, Chat.__table__, "key", "active") == [(NEW, True), (OLD, False)]
