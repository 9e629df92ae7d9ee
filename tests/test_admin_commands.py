"""Admin slash-commands as admins and members see them in the chat."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from adapters.base import PermanentError, SendResult
from bot import actions as act
from bot import builtins
from bot.events import Mention, Text
from bot.simulate import RecordingAdapter
from storage.models import AuditEntry, Base, Broadcast
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
admins = ["sandbox:boss"]
[platforms.sandbox]
[[groups]]
id = "sandbox:g1"
admins = ["sandbox:ann"]
[campaigns.daily]
type = "checkin"
points = 10
[campaigns.g1only]
type = "announcement"
groups = ["sandbox:g1"]
schedule = "0 20 * * *"
text = "Good evening, {group}!"
[campaigns.trivia]
type = "quiz"
[[campaigns.trivia.questions]]
text = "What is the capital of France?"
answers = ["Paris"]
"""
REFUSAL = "This command is for the group's admins."


@pytest.fixture
async def chat():
    conv = await Conversation.open(CONFIG, START)
    yield conv
    await conv.close()


async def count(conv: Conversation, model: type) -> int:
    async with conv.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model.__table__))).scalar_one())


BOOKKEEPING = {"processed_events", "outbox", "members", "memberships", "chats", "sandbox_messages", "alembic_version"}


async def state(conv: Conversation) -> dict[str, int]:
    """Rows per table, except the bookkeeping every event does (seen ids, members, outbox)."""
    async with conv.db.connect() as conn:
        return {
            t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
            for t in Base.metadata.sorted_tables
            if t.name not in BOOKKEEPING
        }


async def audit_rows(conv: Conversation) -> list[tuple[str, str, str, str]]:
    c = AuditEntry.__table__.c
    async with conv.db.connect() as conn:
        rows = await conn.execute(select(c.actor, c.command, c.args, c.outcome).order_by(c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


# --- who may do what ----------------------------------------------------------------------------

SAMPLES = {
    "campaign": ["list", "status daily", "stop daily", "start g1only"],
    "points": ["add @bob 50 great answer", "remove @bob 5 spam"],
    "streak": ["repair @bob 2026-02-27 outage"],
    "broadcast": ["Big sale tomorrow!"],
    "stats": [""],
    "audit": ["", "5"],
    "coupons": ["status"],
    "quiz": ["start trivia", "stop"],
}


async def test_a_member_who_is_not_an_admin_gets_a_short_refusal_for_every_admin_command(chat: Conversation) -> None:
    await chat.say("bob", "hello")
    await chat.say("bob", "/checkin")
    before = await state(chat)
    admin_commands = {name for name, b in builtins.REGISTRY.items() if b.spec.admin}
    admin_commands |= {name for name, owners in chat.engine.command_table.items() if any(s.admin for _, s in owners)}
    assert {"campaign", "points", "streak", "broadcast", "stats", "audit", "coupons", "quiz"} <= admin_commands
    for name in sorted(admin_commands):
        for args in SAMPLES.get(name, [""]):
            replies = await chat.say("mallory", f"/{name} {args}".strip())
            assert replies == [REFUSAL], (name, args, replies)
    assert await chat.advance(timedelta(minutes=5)) == []  # no quiz question, no broadcast report
    assert await state(chat) == before
    assert await audit_rows(chat) == []
    assert await chat.say("bob", "/checkin", at=START + timedelta(days=1)) != []  # the campaign still runs


EVERYTHING = (
    CONFIG
    + """
[coupons.friend10]
generate = 5
[campaigns.bring]
type = "referral"
inviter_reward = { coupon_pool = "friend10" }
[[rules]]
name = "photo"
command = "photo"
admin_only = true
points = 5
tag = "photographer"
"""
)


async def test_every_admin_command_of_campaigns_and_rules_is_refused_to_members_and_audited_for_admins() -> None:
    conv = await Conversation.open(EVERYTHING, START)
    try:
        await conv.say("bob", "hello")
        before = await state(conv)
        admin_commands = {name for name, b in builtins.REGISTRY.items() if b.spec.admin}
        admin_commands |= {
            name for name, owners in conv.engine.command_table.items() if any(s.admin for _, s in owners)
        }
        admin_commands |= {
            r.config.command for r in conv.engine.rules.rules if r.config.admin_only and r.config.command
        }
        assert {"redeem", "photo", "quiz", "points"} <= admin_commands
        samples = SAMPLES | {"redeem": ["FRIEND-1234", ""], "photo": ["", "@bob"]}
        for name in sorted(admin_commands):
            for args in samples.get(name, [""]):
                replies = await conv.say("mallory", f"/{name} {args}".strip())
                assert replies == [REFUSAL], (name, args, replies)
        assert await state(conv) == before and await audit_rows(conv) == []
        assert await conv.say("ann", "/photo") == []  # an admin's rule command works, and is audited
        assert await conv.points("ann") == 5
        c = AuditEntry.__table__.c
        async with conv.db.connect() as conn:
            [row] = (await conn.execute(select(c.actor, c.command, c.outcome, c.effect))).all()
        assert tuple(row) == ("sandbox:ann", "photo", "done", "rule photo: +5 points, tag photographer")
    finally:
        await conv.close()


async def test_an_admins_campaign_command_runs_and_is_audited(chat: Conversation) -> None:
    replies = await chat.say("boss", "/quiz start trivia")
    assert any("capital of France" in r for r in replies)
    assert await chat.say("bob", "/quiz top") != [REFUSAL]  # the members' part of /quiz is not gated
    assert await audit_rows(chat) == [("sandbox:boss", "quiz", "start trivia", "done")]


HELP_RULES = """
[[rules]]
name = "photo"
command = "/photo"
description = "post the photo of the day"
admin_only = true
points = 5
[[rules]]
name = "price"
command = "price"
reply = "Prices: https://shop.example"
[[rules]]
name = "menu"
command = "menu"
groups = ["sandbox:g2"]
reply = "Today: noodles"
"""
MEMBER_HELP = [
    "Commands:",
    "/checkin — check in for today",
    "/help — list the commands",
    "/leaderboard — the group's leaderboard",
    "/me — your points and streak",
    "/price",  # a keyword rule's command (no description given)
    "/quiz top [NAME] [season] — the season's quiz leaderboard: all quizzes, or the one named",
    "/top — the group's leaderboard",
]
ADMIN_HELP = [
    "For admins:",
    "/audit [N] — the latest admin commands",
    "/campaign list | status NAME | start NAME | stop NAME — list, inspect, start or stop campaigns",
    "/coupons status — how full the coupon pools are",
    "/photo — post the photo of the day",  # an admin-only rule, with its description
    "/points add|remove @member N reason — give or take points, with a reason",
    "/quiz start NAME — start a quiz now",
    "/quiz stop — stop the running quiz",
    "/stats — this group's last 7 days in numbers",
    "/streak repair @member YYYY-MM-DD reason — restore a check-in an outage prevented",
]


async def test_help_shows_members_their_commands_and_admins_theirs_too_including_rules() -> None:
    conv = await Conversation.open(CONFIG + HELP_RULES, START)
    try:
        [member] = await conv.say("bob", "/help")
        assert member.splitlines() == MEMBER_HELP
        [group_admin] = await conv.say("ann", "/help")  # /broadcast is for the bot's own admins
        assert group_admin.splitlines() == MEMBER_HELP + ADMIN_HELP
        [bot_admin] = await conv.say("boss", "/help")
        assert (
            bot_admin.splitlines()
            == MEMBER_HELP
            + ADMIN_HELP[:2]
            + ["/broadcast TEXT — send a message to every group of the bot"]
            + ADMIN_HELP[2:]
        )
        [elsewhere] = await conv.say("bob", "/help", chat="g2")  # rules limited to g2 show there only
        assert "/menu" in elsewhere.splitlines() and "/price" in elsewhere.splitlines()
        assert await conv.say("bob", "/menu", chat="g2") == ["Today: noodles"]  # the listed commands answer
        assert await conv.say("bob", "/price") == ["Prices: https://shop.example"]
        assert await conv.say("bob", "/menu") == []  # not in g1, and not listed there
    finally:
        await conv.close()


def test_a_rule_description_needs_a_command() -> None:
    from bot.config import ConfigError, parse

    bad = CONFIG + '[[rules]]\nname = "x"\nkeywords = ["hi"]\ndescription = "greets"\nreply = "hello"\n'
    with pytest.raises(ConfigError, match=r"rules\[0\]: 'description' is what /help shows for a command"):
        parse(bad, "hearth.toml")


async def test_help_speaks_the_group_language() -> None:
    conv = await Conversation.open(
        CONFIG.replace('admins = ["sandbox:ann"]', 'admins = ["sandbox:ann"]\nlanguage = "zh"'), START
    )
    try:
        [text] = await conv.say("ann", "/help")
        assert "积分" in text and "/points" in text
    finally:
        await conv.close()


# --- points -----------------------------------------------------------------------------------


async def test_points_add_and_remove_write_the_ledger_and_the_audit_log(chat: Conversation) -> None:
    await chat.say("bob", "hi")
    [added] = await chat.say("ann", "/points add @bob 50 great answer")
    assert added == "✅ +50 points for bob (great answer). Total: 50."
    [removed] = await chat.say("ann", "/points remove @Bob 20 spam")
    assert removed == "✅ −20 points for bob (spam). Total: 30."
    assert await chat.ledger() == [("sandbox:bob", 50, "admin: great answer"), ("sandbox:bob", -20, "admin: spam")]
    assert await audit_rows(chat) == [
        ("sandbox:ann", "points", "add @bob 50 great answer", "done"),
        ("sandbox:ann", "points", "remove @Bob 20 spam", "done"),
    ]


async def test_points_by_platform_mention_and_usage_hints(chat: Conversation) -> None:
    await chat.say("bob", "hi")
    event = chat.event("say", "ann", text="x")
    mention = replace(event, message=(Text("/points add "), Mention("bob", "Bob Builder"), Text(" 7 helpful")))
    [reply] = [a.content for a in await chat.deliver(mention) if isinstance(a, act.SendMessage)]
    assert "+7 points for bob" in reply
    usage = "Usage: /points add|remove @member N reason"
    assert await chat.say("ann", "/points add @bob lots of") == [usage]
    assert await chat.say("ann", "/points give @bob 5 x") == [usage]
    assert await chat.say("ann", "/points add @bob 5") == [usage]
    assert await chat.say("ann", "/points add @nobody 5 x") == [
        "I don't know a member @nobody in this group. Mention them, or use their exact name."
    ]
    assert await chat.points("bob") == 7
    assert [r[3] for r in await audit_rows(chat)] == ["done", "usage", "usage", "usage", "rejected"]


# --- streak repair ----------------------------------------------------------------------------


async def test_streak_repair_restores_the_streak_in_me_and_is_audited(chat: Conversation) -> None:
    for day in (1, 2, 3, 5):  # the bot was down on the 4th
        await chat.say("bob", "/checkin", at=datetime(2026, 3, day, 9, tzinfo=SHANGHAI))
    [me] = await chat.say("bob", "/me")
    assert "streak 1" in me and "best 3" in me and "40 points" in me
    [done] = await chat.say("ann", "/streak repair @bob 2026-03-04 bot outage")
    assert done == "🔧 Restored bob's check-in on 2026-03-04 (+10 points). Streak now: 5 day(s)."
    [me] = await chat.say("bob", "/me")
    assert "streak 5" in me and "best 5" in me and "50 points" in me
    [again] = await chat.say("ann", "/streak repair @bob 2026-03-04 bot outage")
    assert again == "bob already checked in on 2026-03-04."
    [future] = await chat.say("ann", "/streak repair @bob 2026-03-09 typo")
    assert "not a past day" in future
    [log] = await chat.say("ann", "/audit 3")
    assert "/streak repair @bob 2026-03-04 bot outage → done" in log
    assert await chat.points("bob") == 50
    [streak] = await chat.say("bob", "/checkin", at=datetime(2026, 3, 6, 9, tzinfo=SHANGHAI))
    assert "Streak: 6" in streak


async def test_hearth_audit_prints_the_log(tmp_path, capsys) -> None:
    from bot.cli import main

    path = tmp_path / "hearth.toml"
    database = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    path.write_text(
        CONFIG.replace('timezone = "Asia/Shanghai"', f'timezone = "Asia/Shanghai"\ndatabase = "{database}"')
    )
    conv = await Conversation.open(path.read_text(), START, database=database)
    try:
        await conv.say("bob", "hi")
        await conv.say("ann", "/points add @bob 5 welcome gift")
    finally:
        await conv.close()
    assert await asyncio.to_thread(main, ["audit", "--config", str(path)]) == 0  # the CLI runs its own loop
    out = capsys.readouterr().out
    assert "sandbox:ann in sandbox:g1 /points add @bob 5 welcome gift → done: sandbox:bob +5 points" in out


# --- campaigns --------------------------------------------------------------------------------


async def test_campaign_stop_and_start_persist_across_a_restart(tmp_path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    conv = await Conversation.open(CONFIG, START, database=database)
    try:
        assert await conv.say("boss", "/campaign stop daily") == ["⏸ daily is off."]
        assert await conv.say("alice", "/checkin") == []
        [listing] = await conv.say("boss", "/campaign list")
        assert "• daily (checkin): off" in listing and "• g1only (announcement): on" in listing
    finally:
        await conv.close()
    conv = await Conversation.open(CONFIG, START + timedelta(hours=1), database=database, first_id=1000)
    try:
        assert await conv.say("alice", "/checkin") == []
        [status] = await conv.say("boss", "/campaign status daily")
        assert "State: off — switched by sandbox:boss at 2026-03-01 09:00" in status
        assert await conv.say("boss", "/campaign start daily") == ["▶️ daily is on."]
        [ok] = await conv.say("alice", "/checkin")
        assert "alice checked in" in ok
        assert await conv.say("boss", "/campaign start daily") == ["daily is already on."]
    finally:
        await conv.close()


async def test_group_admins_switch_only_campaigns_of_their_own_group(chat: Conversation) -> None:
    [refused] = await chat.say("ann", "/campaign stop daily")
    assert "runs in other groups too" in refused
    assert await chat.say("ann", "/campaign stop g1only") == ["⏸ g1only is off."]
    assert await chat.advance(timedelta(days=1)) == []  # no evening announcement while it is off
    assert await chat.say("ann", "/campaign start g1only") == ["▶️ g1only is on."]
    assert await chat.advance(timedelta(days=1)) == ["Good evening, Group one!"]
    assert await chat.say("ann", "/campaign stop nosuch") == [
        "There is no campaign nosuch here. /campaign list shows them."
    ]
    assert await chat.say("ann", "/campaign frobnicate") == [
        "Usage: /campaign list | status NAME | start NAME | stop NAME"
    ]


# --- broadcast --------------------------------------------------------------------------------


class G3IsGone(RecordingAdapter):
    """The platform refuses messages to group g3 (the bot was removed from it)."""

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        if isinstance(action, act.SendMessage) and action.chat == "sandbox:g3":
            raise PermanentError("bot was kicked from the group")
        return await super().perform(action, idempotency_key)


async def test_broadcast_reaches_every_group_and_reports_when_done() -> None:
    conv = await Conversation.open(CONFIG, START, adapter=G3IsGone)
    try:
        for group in ("g1", "g2", "g3"):
            await conv.say("alice", "hi", chat=group)
        actions = await conv.deliver(conv.event("say", "boss", text="/broadcast Big sale tomorrow!"))
        sent = sorted(a.chat for a in actions if isinstance(a, act.SendMessage) and a.content == "Big sale tomorrow!")
        assert sent == ["sandbox:g1", "sandbox:g2"]  # g3 refused it
        [queued] = [a.content for a in actions if isinstance(a, act.SendMessage) and "queued" in a.content]
        assert queued == "📣 Broadcast #1 queued to 3 group(s). I'll report when it is delivered."
        assert await conv.advance(timedelta(seconds=11)) == [
            "📣 Broadcast #1 done: delivered to 2 of 3 group(s), 1 failed."
        ]
        assert await conv.advance(timedelta(hours=1)) == []
    finally:
        await conv.close()


async def test_only_the_bots_admins_may_broadcast(chat: Conversation) -> None:
    assert await chat.say("ann", "/broadcast hi all") == [
        "Only the bot's own admins ([bot] admins in the config) may do this."
    ]
    assert await chat.say("boss", "/broadcast") == ["Usage: /broadcast TEXT"]
    assert await count(chat, Broadcast) == 0


# --- stats ------------------------------------------------------------------------------------


async def test_stats_counts_the_last_seven_days() -> None:
    day = timedelta(days=1)
    chat = await Conversation.open(CONFIG, START - 10 * day)
    try:
        await chat.deliver(chat.event("join", "dave"))
        await chat.say("dave", "old news")
        for who in ("alice", "bob", "carol"):
            await chat.deliver(chat.event("join", who, at=START - 3 * day))
        await chat.say("alice", "/checkin", at=START - 2 * day)
        await chat.say("bob", "/checkin", at=START - 2 * day)
        await chat.deliver(chat.event("leave", "carol", at=START - 2 * day))
        await chat.say("alice", "/checkin", at=START - day)
        await chat.say("ann", "/points add @bob 5 nice", at=START - day)
        [stats] = await chat.say("boss", "/stats", at=START)
        assert stats.splitlines() == [
            "📊 Group one, last 7 days",
            "Members: 5 · joined 3 · left 1",  # dave, alice, bob, ann and boss; carol left
            "Active members: 4 (80%)",  # alice, bob, ann, boss (dave spoke 10 days ago)
            "Check-ins: 3 by 2 member(s)",
            "Points granted:",
            "• @admin: 5 in 1 grant(s)",
            "• daily: 30 in 3 grant(s)",
        ]
    finally:
        await chat.close()


async def test_stats_shows_what_the_campaigns_did() -> None:
    conv = await Conversation.open(EVERYTHING, START)
    try:
        [link] = await conv.say("alice", "/invite")
        code = link.split(": ", 1)[1].split("\n", 1)[0]
        await conv.deliver(conv.event("join", "bob", invite=code))
        await conv.deliver(conv.event("join", "carl", invite="nobody@g1"))  # no one's link: no referral
        await conv.say("bob", "hi all")
        await conv.advance(timedelta(hours=25))  # bob qualifies: alice and nobody else gets a coupon
        await conv.say("boss", "/quiz start trivia")
        await conv.say("carol", "paris")
        await conv.advance(timedelta(minutes=5))
        [stats] = await conv.say("boss", "/stats")
        lines = stats.splitlines()
        assert "Referrals: 1 joined through invites · 1 qualified · 0 pending · 0 not counted" in lines
        assert "Coupons given: 1" in lines
        assert "Quizzes: 1 run(s), 1 member(s) answered" in lines
    finally:
        await conv.close()


# --- coupons ----------------------------------------------------------------------------------


async def test_coupons_status_shows_pool_levels_and_flags_low_ones() -> None:
    from storage import coupons

    toml = CONFIG + "[coupons.spring]\nlow_threshold = 2\n[coupons.summer]\nlow_threshold = 0\n"
    conv = await Conversation.open(toml, START)
    try:
        async with conv.db.begin() as conn:
            await coupons.add_codes(conn, "spring", [("SPRING-1", None), ("SPRING-2", None)], START)
            await coupons.add_codes(conn, "summer", [("SUMMER-1", None), ("SUMMER-2", None)], START)
        [status] = await conv.say("ann", "/coupons status")
        assert status.splitlines() == [
            "🎟 Coupon pools:",
            "• ⚠️ spring: only 2 available · 0 given · 0 redeemed · 0 expired · 0 owed",
            "• summer: 2 available · 0 given · 0 redeemed · 0 expired · 0 owed",
        ]
        assert await conv.say("ann", "/coupons") == ["Usage: /coupons status"]
    finally:
        await conv.close()
