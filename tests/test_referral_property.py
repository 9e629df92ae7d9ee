"""Never pay twice: duplicates, batching and restarts change nothing a referral campaign pays.

Any sequence of invites, joins through someone's link, plain joins, leaves and messages by a
few members, delivered once each in order, or with re-deliveries of earlier events mixed in,
cut into batches of any size and with a restart (a new engine on the same database) on the
way, leaves the same referrals, rewards, coupons and ledger. And whatever happens, nobody is
paid more than once per campaign: one invitee reward per invitee, one inviter reward per
qualified invitee, and every coupon code given to at most one member.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.sandbox.decode import decode
from bot.events import Event
from storage.models import LedgerEntry
from storage.referral_models import CouponCode, Referral, ReferralReward
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[coupons.friend10]
generate = 8
[coupons.welcome5]
generate = 3
[campaigns.bring_a_friend]
type = "referral"
qualify_after = "1h"
qualify_messages = 1
inviter_reward = { points = 50, coupon_pool = "friend10" }
invitee_reward = { coupon_pool = "welcome5" }
tiers = [ { invites = 2, points = 100 } ]
max_rewards_per_inviter = 3
clawback_on_leave = "2h"
"""
PEOPLE = ["alice", "bob", "carol", "dave", "erin"]
GAPS_MINUTES = [0, 1, 30, 61, 90, 121, 60 * 5]
END = START + timedelta(days=3)

step = st.tuples(
    st.sampled_from(GAPS_MINUTES),
    st.sampled_from(PEOPLE),
    st.sampled_from(["/invite", "hello", "join", "leave", *(f"join:{p}" for p in PEOPLE)]),
)


def build(steps: list[tuple[int, str, str]]) -> list[Event]:
    """The sandbox's events for these steps (ids stable, as on redelivery); a join through
    ``join:alice`` comes with alice's code, which the platform attributes to her."""
    events, at = [], START
    for n, (gap, user, what) in enumerate(steps, start=1):
        at += timedelta(minutes=gap)
        frame: dict[str, object] = {"chat": "g1", "user": user}
        creator = None
        if what.startswith("join:"):
            inviter = what.split(":", 1)[1]
            frame |= {"op": "join", "invite": f"{inviter}@g1"}
            creator = f"sandbox:{inviter}"
        elif what in ("join", "leave"):
            frame["op"] = what
        else:
            frame |= {"op": "say", "text": what}
        events.append(decode(frame, str(n), at, {"g1": "Group one"}, creator))
    return events


async def outcome(batches: list[list[Event]], restart_after: int | None) -> dict[str, object]:
    """Deliver the batches (timers fire on the way), restarting once; then let time run out."""
    with TemporaryDirectory() as folder:
        database = f"sqlite+aiosqlite:///{Path(folder) / 'r.db'}"
        conv = await Conversation.open(CONFIG, START, database=database)
        try:
            for i, batch in enumerate(batches):
                await conv.advance_actions(max(e.at for e in batch) - conv.clock.now())
                await conv.engine.handle(batch)
                await conv.flush()
                if i == restart_after:
                    now = conv.clock.now()
                    await conv.close()
                    conv = await Conversation.open(CONFIG, now, database=database, first_id=10**6)
            await conv.advance_actions(END - conv.clock.now())
            return await tables(conv)
        finally:
            await conv.close()


async def tables(conv: Conversation) -> dict[str, object]:
    r, w = Referral.__table__.c, ReferralReward.__table__.c
    c, ledger = CouponCode.__table__.c, LedgerEntry.__table__.c
    queries = {
        "referrals": select(r.invitee, r.inviter, r.status, r.reason).order_by(r.invitee),
        "rewards": select(w.member_key, w.role, w.kind, w.slot, w.status).order_by(w.member_key, w.slot),
        "coupons": select(c.pool, c.member_key, c.status)
        .where(c.member_key.is_not(None))
        .order_by(c.pool, c.member_key),
        "ledger": select(ledger.member_key, ledger.points, ledger.reason).order_by(ledger.member_key, ledger.id),
    }
    async with conv.db.connect() as conn:
        return {name: [tuple(x) for x in await conn.execute(q)] for name, q in queries.items()}


@st.composite
def redelivered(draw: st.DrawFn, events: list[Event]) -> list[list[Event]]:
    """The same events with re-deliveries of earlier ones, cut into batches of one moment each
    (a batch never spans a timer, as a live batch lasts milliseconds)."""
    stream: list[Event] = []
    for i, event in enumerate(events):
        stream.append(event)
        for back in draw(st.lists(st.integers(0, i), max_size=2)):
            stream.append(events[back])  # a platform re-sends something it already sent
    batches: list[list[Event]] = []
    for event in stream:
        same_moment = batches and max(e.at for e in batches[-1]) >= event.at
        if same_moment and draw(st.booleans()):
            batches[-1].append(event)
        else:
            batches.append([event])
    return batches


def paid_at_most_once(result: dict[str, object]) -> None:
    rewards: list[tuple[str, str, str, str, str]] = result["rewards"]  # type: ignore[assignment]
    slots = Counter(slot for _, _, _, slot, _ in rewards)
    assert all(n == 1 for n in slots.values()), slots
    as_invitee = Counter((m, kind) for m, role, kind, _, _ in rewards if role == "invitee")
    assert all(n == 1 for n in as_invitee.values()), as_invitee  # one welcome per person, ever
    counted = Counter(inviter for _, inviter, status, _ in result["referrals"] if status != "refused")  # type: ignore[union-attr]
    as_inviter = Counter((m, kind) for m, role, kind, _, _ in rewards if role == "inviter")
    assert all(n <= counted[m] for (m, _), n in as_inviter.items()), (as_inviter, counted)
    holders = Counter(member for pool, member, _ in result["coupons"] if pool == "welcome5")  # type: ignore[union-attr]
    assert all(n == 1 for n in holders.values()), holders


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), steps=st.lists(step, min_size=1, max_size=16))
def test_duplicates_batching_and_a_restart_change_nothing_paid(data: st.DataObject, steps: list) -> None:
    events = build(steps)
    batches = data.draw(redelivered(events), label="batches")
    restart = data.draw(st.integers(0, len(batches) - 1), label="restart after batch")
    once = asyncio.run(outcome([[e] for e in events], None))
    again = asyncio.run(outcome(batches, restart))
    assert again == once
    paid_at_most_once(once)


def test_a_known_referral_is_paid_once_whatever_the_delivery() -> None:
    """The property above compares deliveries; this pins down one of them by hand."""
    steps = [
        (0, "alice", "/invite"),
        (1, "bob", "join:alice"),
        (1, "bob", "hello"),
        (61, "carol", "join:alice"),  # bob qualified by now (his timer fired)
        (0, "carol", "hello"),
        (61, "alice", "hello"),  # carol qualifies: alice reaches the tier of 2
    ]
    events = build(steps)
    once = asyncio.run(outcome([[e] for e in events], None))
    again = asyncio.run(
        outcome([[events[0]], [events[1], events[1]], [events[2], events[0]], *[[e] for e in events[2:]]], 2)
    )
    assert again == once
    assert [(m, p, why) for m, p, why in once["ledger"]] == [  # type: ignore[union-attr]
        ("sandbox:alice", 50, "referral:inviter"),
        ("sandbox:alice", 50, "referral:inviter"),
        ("sandbox:alice", 100, "referral:tier"),
    ]
    assert [(pool, member) for pool, member, _ in once["coupons"]] == [  # type: ignore[union-attr]
        ("friend10", "sandbox:alice"),
        ("friend10", "sandbox:alice"),
        ("welcome5", "sandbox:bob"),
        ("welcome5", "sandbox:carol"),
    ]
    paid_at_most_once(once)
