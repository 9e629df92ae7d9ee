"""Exactly-once effects: duplicates and batching never change what a conversation does.

Any sequence of check-in-ish events (commands, aliases, /me, /top, chatter, joins, leaves;
several members, two groups in different timezones, days passing around local midnight),
delivered once each in order one per batch, or with re-deliveries of earlier events mixed
in and cut into batches of any size, leaves the same ledger, check-ins, memberships and
outgoing messages.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.sandbox.decode import decode
from bot import actions as act
from bot.events import Event
from storage.models import Checkin, LedgerEntry, Membership, OutboxMessage, ProcessedEvent
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 23:30 in Shanghai on Saturday 7 March; New York (g2) moves to summer time the next night
START = datetime(2026, 3, 7, 23, 30, tzinfo=SHANGHAI)
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[[groups]]
id = "sandbox:g2"
timezone = "America/New_York"
language = "zh"

[campaigns.daily]
type = "checkin"
aliases = ["签到", "打卡"]
points = 10
groups = ["sandbox:g1"]
[[campaigns.daily.streak_rewards]]
days = 2
points = 5
repeat = true
[[campaigns.daily.streak_rewards]]
days = 3
points = 50

[campaigns.relaxed]
type = "checkin"
aliases = ["签到"]
points = 7
grace_days = 1
groups = ["sandbox:g2"]
[[campaigns.relaxed.streak_rewards]]
days = 2
points = 20
"""
TITLES = {"g1": "Group one", "g2": "Group two"}
SAYINGS = ["/checkin", "签到", "打卡", "/checkin@HearthBot", " /checkin ", "/me", "/top", "hello", "/help"]
GAPS_MINUTES = [0, 0, 1, 2, 29, 31, 59, 60 * 3, 60 * 11, 60 * 23 + 59, 60 * 24, 60 * 25, 60 * 47]

step = st.tuples(
    st.sampled_from(GAPS_MINUTES),
    st.sampled_from(["alice", "bob", "carol", "dave"]),
    st.sampled_from(["g1", "g2"]),
    st.sampled_from([*SAYINGS, *SAYINGS[:3], "join", "leave"]),
)


def build(steps: list[tuple[int, str, str, str]]) -> list[Event]:
    """The events a sandbox would decode for these steps (ids are stable, as on redelivery)."""
    events, at = [], START
    for n, (gap, user, chat, what) in enumerate(steps, start=1):
        at += timedelta(minutes=gap)
        frame: dict[str, object] = {"chat": chat, "user": user}
        frame.update({"op": what} if what in ("join", "leave") else {"op": "say", "text": what})
        events.append(decode(frame, str(n), at, TITLES))
    return events


async def outcome(batches: list[list[Event]]) -> dict[str, object]:
    """Deliver the batches to a fresh bot; return everything the events changed or sent."""
    conv = await Conversation.open(CONFIG, START, coalesce_after=10**9)
    try:
        for batch in batches:
            conv.clock.set(max(e.at for e in batch))
            await conv.engine.handle(batch)
        await conv.flush()  # per chat, the sender keeps the outbox order
        sent: dict[str, list[str]] = defaultdict(list)
        for _, action in conv.adapter.performed:
            assert isinstance(action, act.SendMessage)
            sent[action.chat].append(action.content)
        return {"sent": dict(sent), **await tables(conv)}
    finally:
        await conv.close()


async def tables(conv: Conversation) -> dict[str, object]:
    ledger = LedgerEntry.__table__.c
    checkins = Checkin.__table__.c
    members = Membership.__table__.c
    out = OutboxMessage.__table__.c
    done = ProcessedEvent.__table__.c
    queries = {
        "ledger": select(
            ledger.member_key, ledger.chat_key, ledger.campaign, ledger.points, ledger.reason, ledger.event_ref
        ).order_by(ledger.id),
        "checkins": select(
            checkins.campaign, checkins.chat_key, checkins.member_key, checkins.day, checkins.streak, checkins.event_ref
        ).order_by(checkins.id),
        "memberships": select(
            members.chat_key,
            members.member_key,
            members.active,
            members.messages,
            members.joined_at,
            members.left_at,
            members.last_seen_at,
        ).order_by(members.chat_key, members.member_key),
        "outbox": select(out.target, out.payload, out.event_ref, out.status).order_by(out.id),
        "processed": select(done.event_id, done.error).order_by(done.event_id),
    }
    async with conv.db.connect() as conn:
        return {name: [tuple(r) for r in await conn.execute(q)] for name, q in queries.items()}


@st.composite
def redelivered(draw: st.DrawFn, events: list[Event]) -> list[list[Event]]:
    """The same events with re-deliveries of earlier ones mixed in, cut into random batches."""
    n = len(events)
    stream: list[Event] = []
    for i, event in enumerate(events):
        stream.append(event)
        for back in draw(st.lists(st.integers(0, i), max_size=2)):
            stream.append(events[back])  # a platform re-sends something it already sent
    if draw(st.booleans()):
        stream += draw(st.permutations(events))[: draw(st.integers(0, n))]  # a replay after a reconnect
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=len(stream))))
    bounds = [0, *(c for c in cuts if c < len(stream)), len(stream)]
    return [stream[a:b] for a, b in pairwise(bounds) if b > a]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), steps=st.lists(step, min_size=1, max_size=24))
def test_duplicates_and_batching_change_nothing(data: st.DataObject, steps: list[tuple[int, str, str, str]]) -> None:
    events = build(steps)
    batches = data.draw(redelivered(events), label="batches")
    once = asyncio.run(outcome([[e] for e in events]))
    again = asyncio.run(outcome(batches))
    assert again == once
    assert all(error is None for _, error in once["processed"])  # type: ignore[union-attr]
    assert len(once["processed"]) == len(events)  # type: ignore[arg-type]


def test_a_known_conversation_has_the_expected_effects() -> None:
    """The property above compares two deliveries; this pins down one of them by hand."""
    steps = [
        (0, "alice", "g1", "/checkin"),  # 23:30 Saturday in Shanghai
        (0, "alice", "g1", "/checkin"),  # same day: refused
        (31, "alice", "g1", "签到"),  # 00:01 Sunday: day 2, +10 and the 2-day bonus
        (0, "bob", "g2", "签到"),  # 11:01 Saturday in New York: the relaxed campaign
        (60 * 24, "bob", "g2", "/checkin"),  # a day later: day 2 there, +7 and +20
    ]
    events = build(steps)
    once = asyncio.run(outcome([[e] for e in events]))
    again = asyncio.run(outcome([events[:3], [events[1], *events[3:]], events]))
    assert again == once
    assert [(m, p, r) for m, _, _, p, r, _ in once["ledger"]] == [  # type: ignore[union-attr]
        ("sandbox:alice", 10, "checkin"),
        ("sandbox:alice", 10, "checkin"),
        ("sandbox:alice", 5, "streak_2"),
        ("sandbox:bob", 7, "checkin"),
        ("sandbox:bob", 7, "checkin"),
        ("sandbox:bob", 20, "streak_2"),
    ]
    g1 = once["sent"]["sandbox:g1"]  # type: ignore[index]
    assert len(g1) == 3 and "already checked in" in g1[1] and "Streak: 2" in g1[2]
